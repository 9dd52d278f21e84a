"""mkdocs hooks: the published runbooks and the generated environment-differences table.

* ``on_config``: paths made absolute (the snippets base path, mkdocs-jupyter's cache) so the build works from
  any working directory.
* ``on_files``: every runbook listed under ``runbooks/`` in ``nav`` becomes a page. Its executed notebook from
  ``build/runs/staging/`` (or ``$RUNBOOK_DOCS_RUNS``) is published with ``runbook.docs.publish_notebook``
  (injected parameters and recorded values dropped, secrets and endpoints masked) into a private temporary
  directory and added to the site's files from there; a runbook not executed yet gets a page that says so.
  Nothing is written under ``docs/``, so concurrent builds and ``mkdocs serve`` never trip over each other.
  Runs before mkdocs-jupyter's own ``on_files`` (priority), which then renders the notebooks.
* ``on_page_markdown``: ``<!-- runbook:environment-differences -->`` becomes the table generated from the
  environments' ``terraform.tfvars.example`` files.
* ``on_page_content``: every rendered page passes through ``runbook.masking.mask_html`` before the search
  index and the theme see it, so no page (an included README's example ARN, say) publishes an endpoint, a key
  or an account id.
* ``on_serve``: rebuilds when the executed notebooks or the Terraform examples change.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

from runbook import docs, paths
from runbook.masking import mask_html

log = logging.getLogger("mkdocs.hooks.runbooks")

MARKER = "<!-- runbook:environment-differences -->"
RUNBOOKS_DIR = "runbooks/"
_staging: list[Path] = []


def _nav_runbooks(nav) -> list[str]:
    """Names (``01-setup``) of the ``runbooks/NN-*.ipynb`` pages the navigation lists, in order."""
    found: list[str] = []

    def walk(item) -> None:
        if isinstance(item, str):
            if item.startswith(RUNBOOKS_DIR) and item.endswith(".ipynb"):
                found.append(item[len(RUNBOOKS_DIR):-len(".ipynb")])
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
    status = docs.stage_runbooks(_nav_runbooks(config.nav), staging / "runbooks", runs_dir)
    for name, state in status.items():
        src_uri = f"{RUNBOOKS_DIR}{name}.ipynb"
        existing = files.get_file_from_path(src_uri)
        if existing is not None:  # a stray copy under docs/runbooks/: the published one wins
            files.remove(existing)
        # A plain File rooted in the staging directory (not File.generated: mkdocs-jupyter's wrapper recomputes
        # abs_src_path from src_dir, which a generated file lacks).
        files.append(File(src_uri, src_dir=str(staging), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
        if state != "executed":
            log.info("runbook %s: %s (from %s)", name, state, runs_dir)
    return files


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, docs.environment_differences())
    return markdown


def on_page_content(html, page, config, files):
    return mask_html(html)


def on_serve(server, config, builder):
    for path in (docs.published_runs_dir(), paths.INFRASTRUCTURE, paths.NOTEBOOKS):
        if path.exists():
            server.watch(str(path))
    return server


def _cleanup() -> None:
    while _staging:
        shutil.rmtree(_staging.pop(), ignore_errors=True)


def on_post_build(config):
    _cleanup()


def on_build_error(error):
    _cleanup()


def on_shutdown():
    _cleanup()
