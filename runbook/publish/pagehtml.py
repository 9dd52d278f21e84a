"""Notebook pages as published (HTML, from the mkdocs hooks): assets split out, code folded, noisy outputs folded,
accessible markup.

Publish layer: imports the layers below it.
"""

from __future__ import annotations

import html as html_lib
import re

# -- notebook pages as published (HTML, from the mkdocs hooks) -------------------------------------------------
_DIV = re.compile(r"<div\b|</div>")


_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)


_SCRIPT_BLOCK = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)


_MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)


_WRAPPER = '<div class="jupyter-wrapper">'


def _element_end(text: str, start: int) -> int:
    """The index just past the ``</div>`` that closes the ``<div`` opening at ``start``."""
    depth = 0
    for match in _DIV.finditer(text, start):
        depth += 1 if match.group(0) == "<div" else -1
        if depth == 0:
            return match.end()
    return len(text)


def split_notebook_assets(page_html: str) -> tuple[str, list[str], list[str]]:
    """A notebook page without the stylesheets and scripts mkdocs-jupyter puts before every notebook.

    Returns ``(html, stylesheets, scripts)``: JupyterLab's stylesheet and the code highlighting (served once,
    as a shared file), the copy button's script (likewise), and nothing of MathJax or Mermaid, which the
    template loads from a CDN (no page of the site loads anything from elsewhere; a ``$`` is money here).
    """
    start = page_html.find(_WRAPPER)
    if start < 0:
        return page_html, [], []
    head, body = page_html[:start], page_html[start:]
    head = _MATHJAX_BLOCK.sub("", head)
    styles = [m.group(1).strip() for m in _STYLE_BLOCK.finditer(head)]
    head = _STYLE_BLOCK.sub("", head)
    scripts = []
    for match in _SCRIPT_BLOCK.finditer(head):
        attributes, code = match.group(1), match.group(2)
        if "src=" in attributes or "mermaid" in code:
            continue  # a CDN script, or the loader of Mermaid from one
        scripts.append(code.strip())
    head = _SCRIPT_BLOCK.sub("", head)
    # Outputs' own <style> blocks (pandas' "scoped" table styles): invalid in a body, and the site styles tables.
    body = _STYLE_BLOCK.sub("", body)
    # The copy button: a custom element labelled for screen readers must say what it is.
    body = re.sub(
        r"<clipboard-copy\b(?![^>]*\brole=)([^>]*)>",
        lambda m: '<clipboard-copy role="button" tabindex="0"' + re.sub(r'\s*,(="")?', "", m.group(1)) + ">",
        body,
    )
    return head.strip() + body, styles, scripts


_CODE_CELL = re.compile(r'<div\b[^>]*class="(jp-Cell jp-CodeCell[^"]*)"[^>]*>')


_INPUT_WRAPPER = re.compile(r'<div class="jp-Cell-inputWrapper"[^>]*>')


#: Cells whose code stays in view: the parameters a reader changes, the values this run was given.
_VISIBLE_INPUT_TAGS = ("celltag_parameters", "celltag_injected-parameters")


def _code_lines(fragment: str) -> int:
    pre = re.search(r"<pre[^>]*>(.*?)</pre>", fragment, re.DOTALL)
    return len(pre.group(1).strip("\n").splitlines()) if pre else 0


def fold_code_inputs(page_html: str) -> str:
    """Every code cell's input folded behind a ``<details>`` (keyboard-reachable, no script), except the
    parameters cells: the page leads with what the run did and found, the code is one press away."""
    out, index = [], 0
    for cell in _CODE_CELL.finditer(page_html):
        if cell.start() < index or any(tag in cell.group(1).split() for tag in _VISIBLE_INPUT_TAGS):
            continue
        wrapper = _INPUT_WRAPPER.search(page_html, cell.end())
        if wrapper is None:
            continue
        end = _element_end(page_html, wrapper.start())
        fragment = page_html[wrapper.start() : end]
        lines = _code_lines(fragment)
        out.append(page_html[index : wrapper.start()])
        out.append(
            f'<details class="runbook-code"><summary data-search-exclude>Code ({lines} '
            f"line{'s' if lines != 1 else ''})</summary>{fragment}</details>"
        )
        index = end
    out.append(page_html[index:])
    return "".join(out)


_OUTPUT_CHILD = re.compile(r'<div class="jp-OutputArea-child[^"]*"[^>]*>')


#: A text output longer than this is folded (its first lines stay visible in the summary's count only).
NOISY_OUTPUT_LINES = 15


def fold_noisy_outputs(page_html: str, max_lines: int = NOISY_OUTPUT_LINES) -> str:
    """Long plain-text outputs (logs, Terraform's chatter) folded behind a ``<details>`` saying how long."""
    out, index = [], 0
    for child in _OUTPUT_CHILD.finditer(page_html):
        if child.start() < index:
            continue
        end = _element_end(page_html, child.start())
        fragment = page_html[child.start() : end]
        if 'data-mime-type="text/plain"' not in fragment and "jp-RenderedText" not in fragment:
            continue
        if "<table" in fragment or "<img" in fragment or "<svg" in fragment:
            continue
        lines = _code_lines(fragment)
        if lines <= max_lines:
            continue
        out.append(page_html[index : child.start()])
        out.append(
            f'<details class="runbook-output"><summary data-search-exclude>Output ({lines} lines)</summary>'
            f"{fragment}</details>"
        )
        index = end
    out.append(page_html[index:])
    return "".join(out)


_OUTPUT_PRE = re.compile(r'(<div class="jp-RenderedText[^"]*"[^>]*>\s*)<pre(?![^>]*data-search-exclude)')


_OUTPUT_TABLE = re.compile(r"<table\b(?![^>]*data-search-exclude)")


_PRE_TAG = re.compile(r"<pre\b(?![^>]*tabindex)")


_IMG_NO_ALT = re.compile(r"<img\b(?![^>]*\balt=)([^>]*)>")


_EMPTY_TH = re.compile(r"<th\b([^>]*)>(?:\s|&nbsp;|&#160;)*</th>")


_SECTION_HEADING = re.compile(r"<h[1-6]\b[^>]*>(.*?)</h[1-6]>", re.DOTALL)


def accessible_notebook_html(page_html: str) -> str:
    """Notebook HTML a keyboard and a screen reader can use, and a search index of prose only.

    Code boxes that may scroll take keyboard focus (``tabindex="0"``); an empty table header becomes an
    ordinary cell; an image without alternative text gets one naming the section it illustrates (plots the
    runbooks draw carry their own); raw text outputs and tables are left out of the search index.
    """
    page_html = _OUTPUT_PRE.sub(r"\1<pre data-search-exclude", page_html)
    out, index = [], 0  # tables in outputs (not the run record's, a Markdown cell): out of the search index
    for wrapper in re.finditer(r'<div class="jp-Cell-outputWrapper"', page_html):
        if wrapper.start() < index:
            continue
        end = _element_end(page_html, wrapper.start())
        out += [
            page_html[index : wrapper.start()],
            _OUTPUT_TABLE.sub("<table data-search-exclude", page_html[wrapper.start() : end]),
        ]
        index = end
    page_html = "".join(out) + page_html[index:]
    page_html = _PRE_TAG.sub('<pre tabindex="0"', page_html)
    page_html = re.sub(
        r'(<div class="jp-OutputArea-output[^"]*")(?![^>]*tabindex)([^>]*>\s*<table)', r'\1 tabindex="0"\2', page_html
    )
    page_html = _EMPTY_TH.sub(r"<td\1></td>", page_html)
    out, index, heading = [], 0, ""
    for match in re.finditer(rf"{_SECTION_HEADING.pattern}|{_IMG_NO_ALT.pattern}", page_html, re.DOTALL):
        out.append(page_html[index : match.start()])
        text = match.group(0)
        if text.startswith("<h"):
            heading = html_text(match.group(1))
        else:
            label = f"Plot of the section {heading}" if heading else "Plot"
            text = f'<img alt="{html_escape(label)}"{match.group(2)}>'
        out.append(text)
        index = match.end()
    out.append(page_html[index:])
    return "".join(out)


def without_empty_headers(page_html: str) -> str:
    """A table header cell with nothing in it (a Markdown table's blank corner) as an ordinary cell."""
    return _EMPTY_TH.sub(r"<td\1></td>", page_html)


def html_text(fragment: str) -> str:
    """The visible text of an HTML fragment (tags and the permalink sign removed, entities decoded)."""
    fragment = re.sub(r'<a class="headerlink".*?</a>', "", fragment, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def html_escape(text: str) -> str:

    return html_lib.escape(text, quote=True)
