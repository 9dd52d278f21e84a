"""The built site in a real headless browser (Debian's chromium through Playwright), at desktop (1280 px) and
mobile (390 px) widths: outputs fit their boxes, every in-page link resolves, the configuration page's table of
contents has the module README's sections, no machine path anywhere, each runbook page's run record shows the
injected parameters, search previews are clean, plots are readable in both colour schemes.

The site is the one tests/test_docs.py builds once per session from executed notebooks; it is served from a
local HTTP server on 127.0.0.1. Screenshots go to build/screenshots/ (kept as test artefacts). Needs the
``playwright`` Python package and a chromium binary (``apt-get install -y chromium``); Playwright's own browser
download is never used.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from test_docs import MODULE_README, built_site_info, expected_runbooks

from runbook import paths

pytestmark = pytest.mark.browser

SCREENSHOTS = paths.BUILD / "screenshots"
WIDTHS = {"desktop": 1280, "mobile": 390}
OTHER_PAGES = ["/", "/getting-started/", "/guide/", "/configuration/", "/architecture/", "/runbooks/", "/cost/",
               "/troubleshooting/", "/ci/", "/reference/", "/safety/", "/performance/"]

#: In the page: every output area, code block, table and diagram either fits the content column or sits in a box
#: of its own that scrolls sideways and fits (code blocks may use the full width on phones, as the theme does).
OVERFLOW_CHECK = """() => {
  const content = document.querySelector('.md-content__inner') || document.querySelector('.md-content');
  const cr = content.getBoundingClientRect();
  const viewport = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.querySelectorAll(
      '.jp-OutputArea-output, .jp-InputArea-editor, .md-typeset table, .md-typeset pre, .mermaid')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const pre = el.tagName === 'PRE';
    const right = pre ? Math.max(cr.right, viewport) : cr.right, left = pre ? 0 : cr.left;
    if (r.right <= right + 1 && r.left >= left - 1) continue;
    let scrolls = false;
    for (let node = el; node && node !== content; node = node.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(node).overflowX)) {
        const b = node.getBoundingClientRect();
        if (b.right <= right + 1 && b.left >= left - 1) { scrolls = true; break; }
      }
    }
    if (!scrolls) bad.push(`${el.tagName}.${String(el.className).slice(0, 50)} spans ${Math.round(r.left)}-${Math.round(r.right)}, the column ${Math.round(cr.left)}-${Math.round(cr.right)}`);
  }
  return bad;
}"""  # noqa: E501 (JavaScript: the line is one template literal)

#: In the page: the in-page links (#id), including the table of contents, whose target id is missing.
DEAD_ANCHORS = """() => [...document.querySelectorAll('a[href^="#"]')]
  .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
  .filter(id => id && !document.getElementById(id) && !document.getElementsByName(id).length)"""


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox", "--disable-gpu",
                                                                              "--disable-dev-shm-usage"])
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    info = built_site_info(tmp_path_factory)
    assert info["status"] == 0, "the site did not build (see tests/test_docs.py)"
    return Path(info["site"])


@pytest.fixture(scope="module")
def site_info(tmp_path_factory):
    return built_site_info(tmp_path_factory)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def runbook_pages() -> list[str]:
    return [f"/runbooks/{name}/" for name in expected_runbooks()]


def all_pages() -> list[str]:
    return [*OTHER_PAGES, *runbook_pages()]


def open_page(browser, url: str, width: int, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(150)
    return context, page


def shot_name(path: str) -> str:
    return path.strip("/").replace("/", "_") or "home"


def test_pages_render_with_navigation_and_plots(browser, site, server):
    plots = 0
    for path in runbook_pages():
        context, page = open_page(browser, server + path, WIDTHS["desktop"])
        try:
            assert page.locator(".md-nav").count(), f"{path}: no navigation"
            assert "has not been executed" not in page.content(), f"{path}: not executed"
            assert page.locator(".jp-OutputArea-output").count(), f"{path}: no outputs rendered"
            images = page.locator(".jp-OutputArea-output img")
            for index in range(images.count()):
                size = images.nth(index).evaluate("i => [i.naturalWidth, i.naturalHeight]")
                assert size[0] > 50 and size[1] > 50, f"{path}: a {size} image"
            plots += images.count()
        finally:
            context.close()
    assert plots >= 1, "no runbook page shows a plot"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_output_is_wider_than_its_box_without_its_own_scroll(browser, server, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for path in all_pages():
        context, page = open_page(browser, server + path, WIDTHS[width])
        try:
            problems += [f"{path} ({width}): {p}" for p in page.evaluate(OVERFLOW_CHECK)]
            document_width = page.evaluate("document.documentElement.scrollWidth")
            if document_width > WIDTHS[width] + 1:
                problems.append(f"{path} ({width}): the page itself scrolls sideways ({document_width} px)")
            page.screenshot(path=str(SCREENSHOTS / f"{shot_name(path)}-{width}.png"), full_page=True)
        finally:
            context.close()
    assert not problems, "\n".join(problems[:30])


def test_every_in_page_link_resolves(browser, site, server):
    dead = []
    for path in all_pages():
        context, page = open_page(browser, server + path, WIDTHS["desktop"])
        try:
            dead += [f"{path}#{anchor}" for anchor in page.evaluate(DEAD_ANCHORS)]
            # links to an anchor of another page of the site: the id exists there
            for href in page.evaluate("() => [...document.querySelectorAll('article a[href*=\"#\"]')]"
                                      ".map(a => a.href)"):
                target = urlparse(href)
                if not href.startswith(server) or target.path == urlparse(page.url).path:
                    continue
                file = site / unquote(target.path).lstrip("/")
                file = file / "index.html" if file.is_dir() or not file.suffix else file
                if file.suffix == ".html" and file.is_file() and target.fragment:
                    if f'id="{unquote(target.fragment)}"' not in file.read_text(encoding="utf-8"):
                        dead.append(f"{path} -> {href}")
        finally:
            context.close()
    assert not dead, "dead links:\n" + "\n".join(dead[:30])


def test_the_configuration_toc_lists_the_module_readme_sections(browser, server):
    context, page = open_page(browser, server + "/configuration/", WIDTHS["desktop"])
    try:
        toc = page.locator(".md-nav--secondary").first.inner_text()
    finally:
        context.close()
    sections = [re.sub(r"[`*_]", "", line[3:].strip()) for line in MODULE_README.read_text().splitlines()
                if line.startswith("## ")]
    missing = [s for s in sections if s not in toc]
    assert len(sections) >= 10 and not missing, f"the configuration page's TOC lacks {missing}"
    for reference in ("Requirements", "Providers", "Modules", "Resources", "Inputs", "Outputs", "Usage", "Examples"):
        assert reference in toc, reference


def test_the_run_record_shows_the_injected_parameters(browser, server, site_info):
    runs = Path(site_info["runs"])
    for name in expected_runbooks():
        executed = json.loads((runs / f"{name}.ipynb").read_text())
        parameters = executed["metadata"]["papermill"]["parameters"]
        context, page = open_page(browser, server + f"/runbooks/{name}/", WIDTHS["mobile"])
        try:
            record = page.locator("#run-record").locator("xpath=..")
            text = record.inner_text()
        finally:
            context.close()
        assert "Parameters this run used" in text, f"{name}: no parameters in the run record"
        for parameter, value in parameters.items():
            assert parameter in text, f"{name}: injected {parameter} not shown"
            if isinstance(value, bool):
                assert repr(value) in text
        assert "staging" in text and "started" in text and "Steps" in text, name


def machine_literals(site_info) -> list[str]:
    found = [str(paths.ROOT), str(Path(site_info["runs"]).parent.parent), str(Path.home()) + "/", sys.prefix]
    found += [p for p in (shutil.which("terraform"), shutil.which("tofu"), os.environ.get("RUNBOOK_TF_PLUGIN_MIRROR"))
              if p]
    return found + [m for m in ("/opt/tf-plugins",) if Path(m).is_dir()]


def test_no_machine_path_in_any_page_download_or_the_search_index(browser, server, site_info):
    literals = machine_literals(site_info)
    found = []
    context = browser.new_context()
    try:
        page = context.new_page()
        for path in all_pages():
            page.goto(server + path)
            texts = {"page": page.content()}
            if path.startswith("/runbooks/") and path != "/runbooks/":
                name = path.strip("/").split("/")[-1]
                texts["download"] = page.request.get(urljoin(server + path, f"{name}.ipynb")).text()
            for kind, text in texts.items():
                found += [f"{path} ({kind}): {literal}" for literal in literals if literal in text]
        index = page.request.get(server + "/search/search_index.json").text()
        found += [f"search index: {literal}" for literal in literals if literal in index]
    finally:
        context.close()
    assert not found, "\n".join(found[:30])


def test_search_previews_show_no_permalink_signs_and_no_code(browser, server):
    context, page = open_page(browser, server + "/", WIDTHS["desktop"])
    try:
        page.locator(".md-search__input").click()
        page.keyboard.type("terraform init")
        page.wait_for_selector(".md-search-result__item", timeout=15_000)
        page.wait_for_timeout(300)
        previews = page.locator(".md-search-result").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "search-terraform-init.png"))
    finally:
        context.close()
    assert "¶" not in previews
    for code in ("from runbook", "import pandas", "ctx = open_context", "In ["):
        assert code not in previews, f"a search preview shows code: {code!r}"


def test_plots_are_readable_in_both_colour_schemes(browser, site, server):
    plotted = [n for n in expected_runbooks()
               if any("image/png" in o.get("data", {}) for c in json.loads(
                   (site / "runbooks" / n / f"{n}.ipynb").read_text())["cells"] for o in c.get("outputs", []) or [])]
    if not plotted:
        pytest.skip("no runbook has a plot in this build")
    for scheme in ("light", "dark"):
        context, page = open_page(browser, server + f"/runbooks/{plotted[0]}/", WIDTHS["desktop"], scheme)
        try:
            assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == \
                ("slate" if scheme == "dark" else "default")
            image = page.locator(".jp-OutputArea-output img").first
            background = image.evaluate("i => getComputedStyle(i).backgroundColor")
            if scheme == "dark":  # a white card under the plot, which matplotlib draws for white
                assert background in ("rgb(255, 255, 255)", "rgba(255, 255, 255, 1)"), background
            image.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"plot-{plotted[0]}-{scheme}.png"))
        finally:
            context.close()


def test_the_architecture_page_draws_each_run_environment(browser, server):
    context, page = open_page(browser, server + "/architecture/", WIDTHS["desktop"])
    try:
        diagrams = page.locator(".mermaid").count()
        text = page.locator("article").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "architecture-desktop.png"), full_page=True)
    finally:
        context.close()
    assert diagrams >= 1 or "No diagram for" in text
    assert "aws_dynamodb_table" in text or "No diagram for staging" in text
