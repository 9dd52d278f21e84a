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
OTHER_PAGES = [
    "/",
    "/getting-started/",
    "/guide/",
    "/configuration/",
    "/architecture/",
    "/runbooks/",
    "/cost/",
    "/troubleshooting/",
    "/ci/",
    "/reference/",
    "/safety/",
    "/performance/",
]

#: In the page: every output area, code block, table and diagram either fits the content column or sits in a box
#: of its own that scrolls sideways and fits (code blocks may use the full width on phones, as the theme does).
OVERFLOW_CHECK = """() => {
  const content = document.querySelector('.md-content__inner') || document.querySelector('.md-content');
  const cr = content.getBoundingClientRect();
  const viewport = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.querySelectorAll(
      '.jp-OutputArea-output, .jp-InputArea-editor, .md-typeset table, .md-typeset pre, .runbook-architecture')) {
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
        instance = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
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
            for href in page.evaluate(
                "() => [...document.querySelectorAll('article a[href*=\"#\"]')].map(a => a.href)"
            ):
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
    sections = [
        re.sub(r"[`*_]", "", line[3:].strip())
        for line in MODULE_README.read_text().splitlines()
        if line.startswith("## ")
    ]
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
    found += [
        p for p in (shutil.which("terraform"), shutil.which("tofu"), os.environ.get("RUNBOOK_TF_PLUGIN_MIRROR")) if p
    ]
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
    def plots(output: dict) -> bool:
        data = output.get("data", {})
        return "image/png" in data or "data:image/svg+xml" in "".join(data.get("text/html", ""))

    plotted = [
        n
        for n in expected_runbooks()
        if any(
            plots(o)
            for c in json.loads((site / "runbooks" / n / f"{n}.ipynb").read_text())["cells"]
            for o in c.get("outputs", []) or []
        )
    ]
    if not plotted:
        pytest.skip("no runbook has a plot in this build")
    for scheme in ("light", "dark"):
        context, page = open_page(browser, server + f"/runbooks/{plotted[0]}/", WIDTHS["desktop"], scheme)
        try:
            assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == (
                "slate" if scheme == "dark" else "default"
            )
            image = page.locator(".jp-OutputArea-output img").first
            background = image.evaluate("i => getComputedStyle(i).backgroundColor")
            if scheme == "dark":  # a white card under the plot, which matplotlib draws for white
                assert background in ("rgb(255, 255, 255)", "rgba(255, 255, 255, 1)"), background
            image.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"plot-{plotted[0]}-{scheme}.png"))
        finally:
            context.close()


# -- results first, readable, offline, accessible (issue 30) --------------------------------------------------
def offline_context(browser, server: str, width: int, blocked: list[str]):
    """A browser context at ``width`` in which every request that does not go to the site is aborted (and
    recorded in ``blocked``): what a reader without network sees, and proof that nothing leaves the site."""
    context = browser.new_context(viewport={"width": width, "height": 900})

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    return context


@pytest.mark.parametrize("width", list(WIDTHS))
def test_runbook_pages_lead_with_results_and_fit_the_column_offline(browser, server, width):
    blocked: list[str] = []
    context = offline_context(browser, server, WIDTHS[width], blocked)
    problems = []
    try:
        page = context.new_page()
        for path in [*runbook_pages(), "/architecture/", "/"]:
            page.goto(server + path, wait_until="load")
            if not path.startswith("/runbooks/"):
                continue
            facts = page.evaluate("""() => {
              const column = document.querySelector('.md-content__inner').getBoundingClientRect();
              const folded = [...document.querySelectorAll('details.runbook-code')];
              const summary = folded[0] && folded[0].querySelector('summary');
              if (summary) summary.focus();
              const tables = [...document.querySelectorAll('.jupyter-wrapper .jp-OutputArea-output table')]
                .filter(t => t.getBoundingClientRect().width > 0)
                .map(t => Math.round(t.getBoundingClientRect().right - column.right));
              const parameters = document.querySelector('.celltag_parameters .jp-InputArea');
              return {folded: folded.length, open: folded.filter(d => d.open).length,
                      focusable: !!summary && document.activeElement === summary,
                      parameters: !!parameters && parameters.getBoundingClientRect().height > 0,
                      record: !!document.getElementById('run-record'),
                      recordFirst: (() => { const h = [...document.querySelectorAll('.jupyter-wrapper h2')];
                                             return h.length > 0 && h[0].id === 'run-record'; })(),
                      overflowing: tables.filter(over => over > 1), tables: tables.length};
            }""")
            if not facts["folded"] or facts["open"] or not facts["focusable"]:
                problems.append(f"{path}: code not folded behind a focusable control: {facts}")
            if not facts["parameters"] or not facts["recordFirst"]:
                problems.append(f"{path}: the parameters or the run record (first) are not in view: {facts}")
            if width == "desktop" and facts["overflowing"]:
                problems.append(f"{path}: {len(facts['overflowing'])} table(s) past the column: {facts['overflowing']}")
    finally:
        context.close()
    assert not blocked, f"requests leaving the site: {sorted(set(blocked))[:10]}"
    assert not problems, "\n".join(problems)


def test_the_plan_review_reads_on_one_line_per_address(browser, server):
    context, page = open_page(browser, server + "/runbooks/02-plan-and-apply/", WIDTHS["desktop"])
    try:
        cells = page.evaluate("""() => [...document.querySelectorAll('.jp-RenderedMarkdown table')]
          .filter(t => t.querySelector('th') && t.querySelector('th').textContent.trim() === 'address')
          .flatMap(t => [...t.querySelectorAll('tbody td:first-child')])
          .map(td => ({text: td.textContent, height: td.getBoundingClientRect().height,
                       line: parseFloat(getComputedStyle(td).lineHeight) || 20}))""")
        headers = page.evaluate("""() => [...document.querySelectorAll('.jp-RenderedMarkdown table')]
          .map(t => [...t.querySelectorAll('th')].map(th => th.textContent.trim()))""")
        text = page.locator("article").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "02-review-desktop.png"), full_page=True)
    finally:
        context.close()
    assert cells, "no plan review table on 02's page"
    tall = [c["text"] for c in cells if c["height"] > 2.2 * c["line"]]
    assert not tall, f"addresses wrapped over several lines: {tall}"
    review = next(h for h in headers if h and h[0] == "address")
    assert "destructive" not in review or "forces replacement" not in review  # empty columns are dropped
    assert "The table as planned" in text
    for setting in ("point-in-time recovery", "stream", "TTL", "deletion protection", "encryption"):
        assert setting in text, setting


def test_the_architecture_page_draws_both_environments_with_edges_offline(browser, server):
    blocked: list[str] = []
    context = offline_context(browser, server, WIDTHS["desktop"], blocked)
    try:
        page = context.new_page()
        page.goto(server + "/architecture/", wait_until="load")
        diagrams = page.evaluate("""() => [...document.querySelectorAll('svg.runbook-architecture')].map(svg => ({
          id: svg.id, edges: svg.querySelectorAll('path.runbook-arch-edge').length,
          nodes: svg.querySelectorAll('g.runbook-arch-resource').length,
          width: svg.getBoundingClientRect().width, label: svg.getAttribute('aria-labelledby')}))""")
        page.screenshot(path=str(SCREENSHOTS / "architecture-offline.png"), full_page=True)
        mermaid = page.locator(".mermaid").count()
    finally:
        context.close()
    assert not blocked, blocked
    assert mermaid == 0
    assert {d["id"] for d in diagrams} == {"architecture-staging", "architecture-production"}, diagrams
    for diagram in diagrams:
        assert diagram["edges"] >= 3 and diagram["nodes"] >= 5 and diagram["width"] > 300, diagram


# -- third-party checkers: axe-core and the Nu HTML Checker (npm packages, installed once into a cache) -------
NPM_TOOLS = Path(
    os.environ.get("RUNBOOK_NPM_TOOLS")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "runbook" / "npm-tools"
)
NPM_PACKAGES = ("axe-core@4.14", "vnu-jar@26")
AXE_JS = NPM_TOOLS / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = NPM_TOOLS / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

#: axe-core findings on mkdocs-material's own chrome (the header's search dialog, the navigation, the footer),
#: not on this project's pages, CSS or hooks: a node whose selector starts with one of these is the theme's.
#: Two remain, from the theme's templates: aria-dialog-name (the search dialog has no accessible name) and
#: landmark-unique (the navigation landmarks carry no distinct labels). (The footer's contrast is fixed in
#: docs/stylesheets/extra.css.)
THEME_AXE_SELECTORS = (".md-search", "nav[data-md-level", ".md-nav", ".md-header", ".md-footer", ".md-sidebar")
#: Nu HTML Checker errors caused by the theme's templates (a part of the message → why they stay).
THEME_NU_MESSAGES = {
    "Attribute “autocomplete” is only allowed": "mkdocs-material's drawer and search toggles are checkboxes "
    "with autocomplete=off",
    "for attribute “tabindex” on element “label”": "mkdocs-material's section labels (navigation.sections) "
    "carry an empty tabindex",
    "The value of the “for” attribute of the “label” element": "mkdocs-material's table-of-contents label "
    "points at a toggle hidden on pages without one",
}


def npm_tools() -> None:
    """axe-core and vnu-jar in the cache directory (``npm install`` once, ~35 MB); skip when npm cannot."""
    if AXE_JS.is_file() and VNU_JAR.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the axe-core and Nu checks need it (apt-get install -y npm)")
    NPM_TOOLS.mkdir(parents=True, exist_ok=True)
    import subprocess

    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(NPM_TOOLS), *NPM_PACKAGES],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not (AXE_JS.is_file() and VNU_JAR.is_file()):
        pytest.skip(f"npm could not install {NPM_PACKAGES}: {done.stderr.strip()[-300:]}")


def site_pages(site: Path) -> list[str]:
    """Every page of the built site (URL paths) but the generated ``source/`` pages, of which one per kind of
    file is taken (they share one template): what axe-core checks, in one browser session."""
    pages, kinds = [], set()
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        if relative.startswith(("assets", "search")):
            continue
        if relative.startswith("source/"):
            kind = Path(relative).suffix or "README"
            if kind in kinds:
                continue
            kinds.add(kind)
        pages.append("/" if relative == "." else f"/{relative}/")
    return pages


def test_axe_core_finds_no_violation_of_the_projects_own(browser, site, server):
    npm_tools()
    axe = AXE_JS.read_text(encoding="utf-8")
    blocked: list[str] = []
    context = offline_context(browser, server, WIDTHS["desktop"], blocked)
    found: dict[str, list[str]] = {}
    theme: dict[str, set[str]] = {}
    try:
        page = context.new_page()
        for path in site_pages(site):
            page.goto(server + path, wait_until="load")
            page.add_script_tag(content=axe)
            result = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))"
            )
            for violation in result:
                ours = [n for n in violation["nodes"] if not n.startswith(THEME_AXE_SELECTORS)]
                if not ours:
                    theme.setdefault(violation["id"], set()).add(path)
                    continue
                found.setdefault(violation["id"], []).append(f"{path} ({len(ours)}): {ours[:3]}")
    finally:
        context.close()
    report = SCREENSHOTS / "axe-report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"project": found, "theme": {k: sorted(v) for k, v in theme.items()}}, indent=1))
    assert not blocked, blocked
    assert not found, "axe-core violations:\n" + "\n".join(f"{rule}: {where[:3]}" for rule, where in found.items())


def test_the_nu_html_checker_finds_no_error_in_the_projects_pages(site):
    npm_tools()
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed: the Nu HTML Checker needs it (apt-get install -y default-jre-headless)")
    import subprocess

    done = subprocess.run(
        [
            java,
            "-Xss1024k",
            "-jar",
            str(VNU_JAR),
            "--skip-non-html",
            "--errors-only",
            "--format",
            "json",
            "--exit-zero-always",
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    errors, theme = [], {}
    for message in messages:
        if message.get("type") != "error":
            continue
        where = str(message.get("url", "")).replace(f"file:{site}", "")
        text = message.get("message", "")
        reason = next((why for part, why in THEME_NU_MESSAGES.items() if part in text), None)
        if reason:
            theme.setdefault(text, []).append(where)
        else:
            errors.append(f"{where}:{message.get('lastLine')}: {text} [{message.get('extract', '')[:80]}]")
    report = SCREENSHOTS / "nu-report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"project": errors, "theme": theme}, indent=1))
    assert not errors, f"{len(errors)} Nu errors:\n" + "\n".join(errors[:25])


#: What a reader types, and the pages that answer it (the first result must be one of them).
SEARCHES = {
    "import": ("runbooks/03-import/", "troubleshooting/"),
    "PITR": ("configuration/", "runbooks/06-operations/", "cost/"),
    "cost": ("runbooks/05-cost-analysis/", "cost/"),
    "drift": ("runbooks/02-plan-and-apply/", "reference/", "safety/"),  # safety: the drift semantics, exit codes
    "destroy": ("configuration/", "safety/", "runbooks/02-plan-and-apply/", "reference/"),  # `runbook destroy`
}


def test_search_finds_the_page_that_answers_first_and_indexes_prose_not_outputs(browser, site, server):
    index = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    runbook_text = " ".join(d["text"] for d in index if d["location"].startswith("runbooks/0"))
    assert "Parameters this run used" in runbook_text and "staging" in runbook_text  # the run record is indexed
    for raw in ("STANDARD_INFREQUENT_ACCESS writes", "Code (", "In&nbsp;[", "Out["):
        assert raw not in runbook_text, f"the search index holds raw output: {raw!r}"
    context, page = open_page(browser, server + "/", WIDTHS["desktop"])
    first = {}
    try:
        for query in SEARCHES:
            page.locator(".md-search__input").click()
            page.locator(".md-search__input").fill("")
            page.keyboard.type(query)
            page.wait_for_selector(".md-search-result__item", timeout=15_000)
            page.wait_for_timeout(300)
            href = page.locator(".md-search-result__item > a").first.get_attribute("href")
            first[query] = urlparse(href).path.lstrip("/")
    finally:
        context.close()
    wrong = {q: p for q, p in first.items() if p not in SEARCHES[q]}
    assert not wrong, f"first search results that do not answer the query: {wrong}"
