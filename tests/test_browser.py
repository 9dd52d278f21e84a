"""The built site in a real headless browser (Debian's chromium): navigation, rendered plots, screenshots.

The site is the one tests/test_docs.py builds once per session from executed notebooks; it is served from a
local HTTP server on 127.0.0.1. Screenshots go to build/screenshots/ (kept as test artefacts).
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import pytest

from runbook import paths
from test_docs import built_site_info, expected_runbooks

pytestmark = pytest.mark.browser

SCREENSHOTS = paths.BUILD / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=2000"]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    return binary


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    info = built_site_info(tmp_path_factory)
    assert info["status"] == 0, "the site did not build (see tests/test_docs.py)"
    return Path(info["site"])


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


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def run_chromium(binary: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def dump_dom(binary: str, url: str) -> str:
    proc = run_chromium(binary, "--dump-dom", url)
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def screenshot(binary: str, url: str, name: str, height: int = 2400) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    target.unlink(missing_ok=True)
    proc = run_chromium(binary, f"--window-size=1280,{height}", f"--screenshot={target}", url)
    assert target.exists() and target.stat().st_size > 10_000, proc.stderr[-2000:]
    return target


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def pages() -> list[tuple[str, str]]:
    return [("home", "/"), *[(name, f"/runbooks/{name}/") for name in expected_runbooks()]]


def notebook_has_plots(site: Path, name: str) -> bool:
    nb = json.loads((site / "runbooks" / name / f"{name}.ipynb").read_text())
    return any("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []) or [])


def test_pages_render_with_navigation_and_plots(chromium, site, server):
    with ThreadPoolExecutor(max_workers=2) as pool:
        doms = dict(zip([n for n, _ in pages()], pool.map(lambda p: dump_dom(chromium, server + p[1]), pages())))
    nav_targets = ["getting-started/", "configuration/", "cost/", "troubleshooting/", "reference/", "safety/",
                   *[f"runbooks/{n}/" for n in expected_runbooks()]]
    plots = 0
    paths_of = dict(pages())
    for name, dom in doms.items():
        assert 'class="md-nav' in dom, f"{name}: no navigation"
        page_url = server + paths_of[name]
        links = {urljoin(page_url, link) for link in re.findall(r'href="([^"#]*)"', dom)}
        for target in nav_targets:
            assert f"{server}/{target}" in links, f"{name}: no navigation link to {target}"
        if name == "home":
            continue
        assert "has not been executed" not in dom, f"{name}: not executed"
        assert "jp-OutputArea-output" in dom, f"{name}: no outputs rendered"
        images = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', dom)
        if notebook_has_plots(site, name):
            assert images, f"{name}: the notebook has plots but the page shows none"
        for image in images:
            width, height = png_size(base64.b64decode(image))
            assert width > 50 and height > 50, f"{name}: a {width}x{height} image"
        plots += len(images)
    assert plots >= 1, "no runbook page shows a plot"


def test_screenshots(chromium, server):
    with ThreadPoolExecutor(max_workers=2) as pool:
        shots = list(pool.map(lambda p: screenshot(chromium, server + p[1], p[0]), pages()))
    for shot in shots:
        width, height = png_size(shot.read_bytes())
        assert (width, height) == (1280, 2400)
