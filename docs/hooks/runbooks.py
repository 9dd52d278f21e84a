"""mkdocs hooks: the published runbooks and the generated environment-differences table.

* ``on_config``: paths made absolute (the snippets base path, mkdocs-jupyter's cache) so the build works from
  any working directory.
* ``on_files``: every runbook listed under ``runbooks/`` in ``nav`` becomes a page. Its executed notebook from
  ``build/runs/staging/`` (or ``$RUNBOOK_DOCS_RUNS``) is published with
  ``runbook.publish.notebookcopies.publish_notebook``
  (injected parameters and recorded values dropped, secrets and endpoints masked) into a private temporary
  directory and added to the site's files from there; a runbook not executed yet gets a page that says so.
  Nothing is written under ``docs/``, so concurrent builds and ``mkdocs serve`` never trip over each other.
  Runs before mkdocs-jupyter's own ``on_files`` (priority), which then renders the notebooks.
  The Terraform files under ``infrastructure/`` become pages under ``source/`` (not in the navigation), so
  the module README's links to ``.tf`` files and examples work on the site with or without ``repo_url``.
* ``on_page_markdown``: ``<!-- runbook:environment-differences -->`` becomes the table generated from the
  environments' ``terraform.tfvars.example`` files, ``<!-- runbook:architecture -->`` the diagram of what each
  environment creates (from Terraform's plan or state of the executed runs), and the module README's
  ``--8<--`` include is expanded here with its headings one level down (its H1 would end the page's table of
  contents) and its relative links pointing at the ``source/`` pages (or the repository, with ``repo_url``).
* ``on_page_content``: every rendered page passes through ``runbook.publish.masking.mask_html`` before the search
  index and the theme see it, so no page (an included README's example ARN, say) publishes an endpoint, a key,
  an account id or a machine path. On runbook pages the headings' permalinks become the theme's own
  (``headerlink``: no ``¶`` in search previews), code inputs are left out of the search index, and the table of
  contents is rebuilt from the rendered headings, so every entry links to an id that exists.
* ``on_serve``: rebuilds when the executed notebooks or the Terraform examples change.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc

from runbook import paths
from runbook.publish import docs, notebookcopies, pagehtml, sitepages
from runbook.publish.masking import add_machine_path, mask_html

log = logging.getLogger("mkdocs.hooks.runbooks")

MARKER = "<!-- runbook:environment-differences -->"
ARCHITECTURE_MARKER = "<!-- runbook:architecture -->"
SNIPPET = re.compile(r'^--8<--\s+"(?P<path>[^"]+/README\.md)"\s*$', re.MULTILINE)
SOURCE_DIR = "source/"
RUNBOOKS_DIR = "runbooks/"
#: The templates (the runbooks as committed, runnable as is), beside the executed records.
DOWNLOADS_DIR = "downloads/"
_staging: list[Path] = []


def _nav_runbooks(nav) -> list[str]:
    """Names (``01-setup``) of the ``runbooks/NN-*.ipynb`` pages the navigation lists, in order."""
    found: list[str] = []

    def walk(item) -> None:
        if isinstance(item, str):
            if item.startswith(RUNBOOKS_DIR) and item.endswith(".ipynb"):
                found.append(item[len(RUNBOOKS_DIR) : -len(".ipynb")])
        elif isinstance(item, dict):
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(nav or [])
    return found


def on_config(config):
    root = Path(config.config_file_path).resolve().parent
    if config.get("repo_url"):
        config["edit_uri"] = config.get("edit_uri") or f"edit/{sitepages.REPO_BRANCH}/docs/"
    else:  # no repository: no repository button, no edit links (an edit_uri alone is not a valid URL)
        config["repo_url"], config["edit_uri"] = None, None
    snippets = config.mdx_configs.setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str((root / p).resolve()) for p in snippets.get("base_path", ["."])]
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None:
        jupyter.config["cache_dir"] = str((root / jupyter.config["cache_dir"]).resolve())
    return config


@event_priority(50)  # before mkdocs-jupyter wraps the notebooks
def on_files(files, config):
    _cleanup()
    staging = Path(tempfile.mkdtemp(prefix="runbook-docs-"))
    _staging.append(staging)
    runs_dir = docs.published_runs_dir()
    status = notebookcopies.stage_runbooks(_nav_runbooks(config.nav), staging / "runbooks", runs_dir)
    for name, state in status.items():
        src_uri = f"{RUNBOOKS_DIR}{name}.ipynb"
        existing = files.get_file_from_path(src_uri)
        if existing is not None:  # a stray copy under docs/runbooks/: the published one wins
            files.remove(existing)
        # A plain File rooted in the staging directory (not File.generated: mkdocs-jupyter's wrapper recomputes
        # abs_src_path from src_dir, which a generated file lacks).
        files.append(
            File(src_uri, src_dir=str(staging), dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls)
        )
        if state != "executed":
            log.info("runbook %s: %s (from %s)", name, state, runs_dir)
    for notebook in sorted(runs_dir.glob("[0-9][0-9]-*.ipynb")) if runs_dir.is_dir() else []:
        try:
            published = json.loads(notebook.read_text(encoding="utf-8"))
            for path, placeholder in notebookcopies.machine_paths_of(published).items():
                add_machine_path(path, placeholder)  # the pages built from them are masked with the same paths
        except (OSError, ValueError):
            continue
    add_machine_path(runs_dir, "<runs-dir>")
    for name in status:
        template = notebookcopies.template_notebook(name)
        if template is not None:
            files.append(
                File.generated(
                    config,
                    f"{DOWNLOADS_DIR}{name}.ipynb",
                    content=json.dumps(template, indent=1, ensure_ascii=False) + "\n",
                )
            )
    for src_uri, content in sitepages.source_pages(config.get("repo_url") or "").items():
        if files.get_file_from_path(src_uri) is None:
            files.append(File.generated(config, src_uri, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    def include(match: re.Match) -> str:
        source = paths.ROOT / match["path"]
        if not source.is_file():
            raise PluginError(f"{page.file.src_uri}: the included file {match['path']} does not exist")
        return sitepages.included_readme(source, page.file.src_uri, config.get("repo_url") or "")

    markdown = SNIPPET.sub(include, markdown)
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, sitepages.environment_differences(), 1).replace(MARKER, "")
    if ARCHITECTURE_MARKER in markdown:
        markdown = markdown.replace(ARCHITECTURE_MARKER, docs.architecture_markdown(docs.published_runs_dir()))
    return markdown


_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="(#[^"]*)">¶</a>')
#: Code inputs, the In/Out prompts and cell tags: left out of the search index (previews show prose and results,
#: not code). The attribute goes on elements without a nested element of the same tag: Material's search parser
#: compares elements by tag name, so an excluded <div> would end at the first inner </div>.
_CODE_INPUT = re.compile(r'(<div class="highlight-ipynb[^"]*">\s*)<pre>')
_PROMPT = re.compile(r'<div class="((?:jp-InputPrompt|jp-OutputPrompt)\b[^"]*)"')
_CELL_TAG = re.compile(r'<span class="cell-tag">')
_CLIPBOARD_TEXT = re.compile(r'<div class="clipboard-copy-txt"')  # the copy button's hidden copy of the source
_HEADING = re.compile(r'<h([1-6])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)


def _notebook_toc(content: str):
    """The page's table of contents from its rendered headings (ids as they are in the page)."""
    tokens: list[dict] = []
    stack: list[dict] = []
    for level, anchor, inner in _HEADING.findall(content):
        name = html_lib.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<a class="headerlink".*?</a>', "", inner))).strip()
        token = {"level": int(level), "id": anchor, "name": name, "children": []}
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    return get_toc(tokens)


def on_page_context(context, page, config, nav):
    """Edit links of generated pages point at what to edit: a runbook's template, no link for source pages."""
    if page.edit_url and page.file.src_uri.startswith(RUNBOOKS_DIR) and page.file.src_uri.endswith(".ipynb"):
        repo = (config.get("repo_url") or "").rstrip("/")
        name = Path(page.file.src_uri).name
        page.edit_url = f"{repo}/edit/{sitepages.REPO_BRANCH}/notebooks/{name}" if repo else None
    elif page.file.src_uri.startswith(SOURCE_DIR):
        page.edit_url = None
    return context


def on_page_content(html, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):
        html = _ANCHOR_LINK.sub(r'<a class="headerlink" href="\1" title="Permanent link">¶</a>', html)
        html = _CODE_INPUT.sub(r"\1<pre data-search-exclude>", html)
        html = _PROMPT.sub(r'<div data-search-exclude class="\1"', html)
        html = _CELL_TAG.sub('<span data-search-exclude class="cell-tag">', html)
        html = html.replace(
            '<span class="notice" hidden="">Copied!</span>',
            '<span data-search-exclude class="notice" hidden="">Copied!</span>',
        )
        html = _CLIPBOARD_TEXT.sub('<div data-search-exclude class="clipboard-copy-txt"', html)
        page.toc = _notebook_toc(html)
        html, styles, scripts = pagehtml.split_notebook_assets(html)
        for kind, found in (("css", styles), ("js", scripts)):
            for text in found:
                _notebook_assets[kind].setdefault(text, None)
        html = pagehtml.accessible_notebook_html(pagehtml.fold_noisy_outputs(pagehtml.fold_code_inputs(html)))
    return mask_html(pagehtml.without_empty_headers(html))


def on_serve(server, config, builder):
    for path in (docs.published_runs_dir(), paths.INFRASTRUCTURE, paths.NOTEBOOKS, paths.ROOT / "runbook"):
        if path.exists():
            server.watch(str(path))
    return server


def _cleanup() -> None:
    while _staging:
        shutil.rmtree(_staging.pop(), ignore_errors=True)


#: What mkdocs-jupyter inlines before every notebook (JupyterLab's stylesheet, the code highlighting, the copy
#: button's script), collected from the pages and written once (``NOTEBOOK_ASSETS``), shared by all of them.
_notebook_assets: dict[str, dict[str, None]] = {"css": {}, "js": {}}
#: Where the shared files go in the site (``docs/overrides/main.html`` links them on notebook pages).
NOTEBOOK_ASSETS = "assets/runbook/notebook"


def on_pre_build(config):
    for found in _notebook_assets.values():
        found.clear()


def on_post_build(config):
    target = Path(config.site_dir) / NOTEBOOK_ASSETS
    target.parent.mkdir(parents=True, exist_ok=True)
    for kind, found in _notebook_assets.items():
        (target.parent / f"{target.name}.{kind}").write_text("\n\n".join(found) + "\n", encoding="utf-8")
    _cleanup()


def on_build_error(error):
    _cleanup()


def on_shutdown():
    _cleanup()
