"""The site's generated pages: the environment differences (from the tfvars examples), the Terraform files as pages,
the module README included with its links rewritten.

Publish layer: imports the layers below it.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
from pathlib import Path
from typing import Any, Iterable

from runbook import hcl, paths
from runbook.publish.masking import mask


# -- environment differences ----------------------------------------------------------------------------------
def tfvars_example(environment: str) -> Path:
    return paths.environment_dir(environment) / "terraform.tfvars.example"


def environment_settings(environment: str) -> dict[str, Any]:
    """The variables of ``environment``'s tfvars example (:func:`runbook.hcl.read`), in file order."""
    return hcl.read(tfvars_example(environment))


def _format(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        return "<br>".join(f"`{k} = {_format_scalar(v)}`" for k, v in value.items()) or "`{}`"
    elif isinstance(value, list):
        text = (
            "["
            + ", ".join(_format_scalar(v) if not isinstance(v, (dict, list)) else json.dumps(v) for v in value)
            + "]"
        )
    else:
        text = _format_scalar(value)
    return f"`{text}`"


def _format_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def environment_differences(environments: Iterable[str] = paths.ENVIRONMENTS) -> str:
    """Markdown: the settings that differ between the environments, then (folded) those they share.

    The values are the tfvars examples' own (``terraform.tfvars.example``, what a new environment starts from).
    """
    environments = list(environments)
    settings = {env: environment_settings(env) for env in environments}
    names = list(dict.fromkeys(n for env in environments for n in settings[env]))
    differ = [
        n for n in names if len({json.dumps(settings[e].get(n), sort_keys=True, default=str) for e in environments}) > 1
    ]
    same = [n for n in names if n not in differ]
    sources = " and ".join(f"`infrastructure/{env}/terraform.tfvars.example`" for env in environments)
    lines = [f"Generated when the site is built, from {sources}.", ""]
    if differ:
        lines += ["| variable | " + " | ".join(environments) + " |", "| --- |" + " --- |" * len(environments)]
        lines += [f"| `{n}` | " + " | ".join(_format(settings[e].get(n)) for e in environments) + " |" for n in differ]
    else:
        lines.append("The environments set every variable alike.")
    if same:
        lines += [
            "",
            f'??? note "Set alike in both environments ({len(same)} variables)"',
            "",
            "    | variable | value | from |",
            "    | --- | --- | --- |",
        ]
        lines += [f"    | `{n}` | {_format(settings[environments[0]].get(n))} | example |" for n in same]
    return mask("\n".join(lines)) + "\n"


# -- the Terraform files on the site --------------------------------------------------------------------------
#: Files under ``infrastructure/`` published as pages (never an operator's terraform.tfvars or backend.hcl:
#: only what git tracks or would track, and only these kinds).
_SOURCE_SUFFIXES = (".tf", ".tfvars.example", ".hcl.example", ".tftest.hcl", ".tftpl", ".yml", ".yaml", ".md")


_NEVER_PUBLISHED = re.compile(
    r"(^|/)(terraform\.tfvars|backend\.hcl|\.terraform(\.lock\.hcl)?|[^/]*\.tfstate[^/]*|tfplan)(/|$)"
)


_LANGUAGES = {".tf": "hcl", ".hcl": "hcl", ".example": "hcl", ".tftpl": "json", ".yml": "yaml", ".yaml": "yaml"}


def source_files() -> list[str]:
    """Repository-relative paths of the Terraform files the site publishes (git's view of ``infrastructure/``)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(paths.ROOT), "ls-files", "--cached", "--others", "--exclude-standard", "infrastructure"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        names = listed.stdout.split() if listed.returncode == 0 else []
    except (OSError, subprocess.SubprocessError):
        names = []
    if not names:
        names = [p.relative_to(paths.ROOT).as_posix() for p in paths.INFRASTRUCTURE.rglob("*") if p.is_file()]
    module_readme = (paths.MODULE_DIR / "README.md").relative_to(paths.ROOT).as_posix()
    return sorted(
        n
        for n in set(names)
        if n.endswith(_SOURCE_SUFFIXES)
        and not _NEVER_PUBLISHED.search(n)
        and n != module_readme
        and (paths.ROOT / n).is_file()
    )


def source_page_uri(path: str) -> str:
    """The site page of repository file ``path``: ``source/<path>.md``; a README is its folder's page."""
    if path.endswith("/README.md"):
        return f"{SOURCE_PAGES}{path}"
    return f"{SOURCE_PAGES}{path}.md"


SOURCE_PAGES = "source/"


def _repo_link(repo_url: str, path: str, tree: bool = False) -> str:
    return f"{repo_url.rstrip('/')}/{'tree' if tree else 'blob'}/{REPO_BRANCH}/{path}" if repo_url else ""


#: The branch repository links point at.
REPO_BRANCH = os.environ.get("RUNBOOK_REPO_BRANCH", "main")


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    return "`" * max(3, longest + 1)


def source_pages(repo_url: str = "") -> dict[str, str]:
    """``{page src_uri: Markdown}`` for every published Terraform file: its text as a code block (READMEs as
    they are, their links pointing at these pages), with a link to the repository when ``repo_url`` is set."""
    published = source_files()
    pages = {}
    for path in published:
        text = (paths.ROOT / path).read_text(encoding="utf-8", errors="replace")
        uri = source_page_uri(path)
        repo = _repo_link(repo_url, path)
        header = "---\nsearch:\n  exclude: true\n---\n\n"
        if path.endswith(".md"):
            body = rewrite_links(text, paths.ROOT / path, uri, repo_url, published)
            if not re.search(r"^# ", body, re.MULTILINE):
                body = f"# `{Path(path).parent.as_posix()}`\n\n" + body
            pages[uri] = (
                header
                + body
                + (
                    f"\n\n[This folder in the repository]({_repo_link(repo_url, str(Path(path).parent), True)})\n"
                    if repo
                    else ""
                )
            )
            continue
        suffix = Path(path).suffix
        language = _LANGUAGES.get(suffix, "text")
        fence = _fence(text)
        folder = str(Path(path).parent)
        siblings = [p for p in published if str(Path(p).parent) == folder and p != path]
        lines = [f"# `{path}`", ""]
        if repo:
            lines += [f"[View in the repository]({repo})", ""]
        lines += [f"{fence}{language}", text.rstrip("\n"), fence, ""]
        if siblings:
            here = posixpath.dirname(uri)
            lines += [
                "In the same folder: "
                + ", ".join(f"[`{Path(p).name}`]({posixpath.relpath(source_page_uri(p), here)})" for p in siblings),
                "",
            ]
        pages[uri] = header + "\n".join(lines)
    return pages


_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def rewrite_links(
    markdown_text: str, source: Path, page_uri: str, repo_url: str = "", published: list[str] | None = None
) -> str:
    """Relative links of a repository Markdown file, made to work from site page ``page_uri``: to the page of a
    published file, to a folder's README or ``main.tf`` page, else to the repository (with ``repo_url``)."""
    published = source_files() if published is None else published
    here = posixpath.dirname(page_uri)

    def target_of(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("/"):
            return match.group(0)
        resolved = (source.parent / target).resolve()
        try:
            relative = resolved.relative_to(paths.ROOT).as_posix()
        except ValueError:
            return match.group(0)
        candidates = (
            [f"{relative}/README.md", f"{relative}/main.tf"]
            if resolved.is_dir() or target.endswith("/")
            else [relative]
        )
        for candidate in candidates:
            if candidate in published:
                link = posixpath.relpath(source_page_uri(candidate), here)
                return f"[{match['text']}]({link}{match['anchor'] or ''})"
        if repo_url:
            folder = resolved.is_dir() or target.endswith("/")
            return f"[{match['text']}]({_repo_link(repo_url, relative, folder)}{match['anchor'] or ''})"
        return match["text"] if not match["text"].startswith("`") else match["text"]

    out, index = [], 0
    for fence in re.finditer(r"^(```|~~~).*?^\1", markdown_text, flags=re.DOTALL | re.MULTILINE):
        out.append(_LINK.sub(target_of, markdown_text[index : fence.start()]))
        out.append(fence.group(0))
        index = fence.end()
    out.append(_LINK.sub(target_of, markdown_text[index:]))
    return "".join(out)


#: The README section the generated environment-differences table replaces on the site.
DIFFERENCES_HEADING = "Environment differences"


DIFFERENCES_MARKER = "<!-- runbook:environment-differences -->"


def included_readme(source: Path, page_uri: str, repo_url: str = "") -> str:
    """The module README as the configuration page includes it: its H1 dropped (the page has its own), every
    other heading one level down, relative links working from the page, and the body of its "Environment
    differences" section replaced by the generated table (so the page has that table once)."""
    text = source.read_text(encoding="utf-8")
    text = rewrite_links(text, source, page_uri, repo_url)
    out, in_fence, dropped_title = [], None, False
    for line in text.splitlines():
        fence = re.match(r"^(```|~~~)", line)
        if fence:
            in_fence = None if in_fence == fence.group(1) else (in_fence or fence.group(1))
        elif in_fence is None and re.match(r"^#{1,5} ", line):
            if line.startswith("# ") and not dropped_title:
                dropped_title = True
                continue
            line = "#" + line
        out.append(line)
    text = "\n".join(out) + "\n"
    section = re.search(rf"^(#+) {DIFFERENCES_HEADING}\s*\n(.*?)(?=^#{{1,3}} |\Z)", text, re.MULTILINE | re.DOTALL)
    if section:
        text = text[: section.start(2)] + "\n" + DIFFERENCES_MARKER + "\n\n" + text[section.end(2) :]
    return text
