"""`runbook lab`: JupyterLab on loopback, on working copies of the runbooks (issues 15, 18, 29).

A kernel it starts reaches the embedded emulator; each copy's own parameters cell holds the lab's values (what
papermill reads as its defaults), nothing stays armed across starts, a broken parameters cell is named; saving
through JupyterLab's contents API (what autosave does) never touches the checkout; the news prompt and update check
are off; infrastructure/ and docs/ are read-only. The browser journeys are in tests/test_lab_browser.py.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import uuid
from pathlib import Path

import boto3
import pytest

from runbook import paths
from runbook.execution import lab as labmod
from runbook.execution import labcopies
from runbook.execution.lab import lab_command, running_lab

websocket = pytest.importorskip("websocket", reason="websocket-client is not installed")

KERNEL_CODE = """
import json, os, boto3
client = boto3.client("dynamodb")
print("RESULT " + json.dumps({"tables": client.list_tables()["TableNames"], "pid": os.getpid(),
                             "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "cwd": os.getcwd()}))
"""


def execute(lab, kernel_id: str, code: str, timeout: float = 60.0) -> str:
    """Run ``code`` in the kernel over JupyterLab's websocket (Jupyter messaging protocol); return its stdout."""
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
        header=[f"Authorization: token {lab.token}"],
        timeout=timeout,
    )
    try:
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        stdout, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content["text"])
            elif kind == "error":
                raise AssertionError("kernel error: " + "\n".join(content.get("traceback", [])))
            elif kind == "status" and content.get("execution_state") == "idle":
                return "".join(stdout)
        raise AssertionError("the kernel did not finish in time")
    finally:
        ws.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_command_is_loopback_with_token(tmp_path):
    command = lab_command(8888, "abc", tmp_path)
    assert command[:3] == [sys.executable, "-m", "runbook.execution.labserver"]
    assert "--ServerApp.ip=127.0.0.1" in command and "--IdentityProvider.token=abc" in command
    assert f"--ServerApp.root_dir={tmp_path}" in command and "--no-browser" in command
    assert paths.NOTEBOOKS != tmp_path


@pytest.mark.slow  # starts JupyterLab
def test_lab_lists_notebooks_and_a_kernel_reaches_the_emulator(tmp_path):
    with running_lab(lab_dir=tmp_path) as lab:
        assert lab.url.startswith(f"http://127.0.0.1:{lab.port}/lab/tree/START.md?token=") and len(lab.token) >= 32
        assert lab.root_dir == tmp_path / "staging", "JupyterLab serves the working copies, not notebooks/"
        listed = {item["name"] for item in lab.api("GET", "/api/contents")["content"]}
        expected = {p.name for p in paths.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")}
        assert expected and expected <= listed

        # without the token the server refuses
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{lab.base_url}/api/contents", timeout=5)
        assert refused.value.code == 403

        # a table created from outside must be visible from the kernel: same emulator
        boto3.client(
            "dynamodb",
            endpoint_url=lab.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_table(
            TableName="lab-probe",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )

        notebook = sorted(expected)[0]
        session = lab.api(
            "POST",
            "/api/sessions",
            {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}},
        )
        out = execute(lab, session["kernel"]["id"], KERNEL_CODE)
        result = json.loads(out.split("RESULT ", 1)[1])
        assert "lab-probe" in result["tables"]  # (moto's state is per process: other tests' tables may show)
        assert result["endpoint"] == lab.endpoint_url
        assert result["cwd"] == str(tmp_path / "staging")
        kernel_pid, server = result["pid"], lab.process
    # everything stopped: the server and the kernel it started
    assert server.poll() is not None
    deadline = time.monotonic() + 10
    while pid_alive(kernel_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(kernel_pid), "the kernel outlived JupyterLab"


@pytest.mark.slow  # starts JupyterLab
def test_runbook_lab_command_prints_url_and_stops_on_ctrl_c(tmp_path):
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runbook.cli", "lab"],
        cwd=paths.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "RUNBOOK_LAB_DIR": str(tmp_path)},
    )
    lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "stops JupyterLab" in line:
                break
        ready = time.monotonic() - started
        text = "".join(lines)
        assert "JupyterLab:    http://127.0.0.1:" in text and "/lab/tree/START.md?token=" in text, text
        assert "AWS emulator:  http://127.0.0.1:" in text, text
        assert "runbook lab --refresh" in text and "never opened for editing nor written" in text, text
        print(f"runbook lab ready in {ready:.1f}s")
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 130, text + out
        assert "Stopped." in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()


# -- working copies -------------------------------------------------------------------------------------------
def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_copies_hold_the_lab_values_as_their_own_defaults(tmp_path):
    """What papermill reads as each copy's defaults is the lab's: no later cell overrides what the user sees."""
    import papermill

    copies = labcopies.prepare_copies("production", "http://127.0.0.1:4566", lab_dir=tmp_path)
    assert sorted(copies.created) == sorted(p.name for p in paths.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    expected = labcopies.lab_parameters("production", "http://127.0.0.1:4566", tmp_path)
    for template in paths.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"):
        path = tmp_path / "production" / template.name
        copy = json.loads(path.read_text())
        assert not [c for c in copy["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        declared = papermill.inspect_notebook(str(path))
        for name in ("environment", "aws_endpoint_url", "work_dir"):
            assert declared[name]["default"] == json.dumps(expected[name]), (template.name, name)
        originals = papermill.inspect_notebook(str(template))
        assert {n: v["help"] for n, v in declared.items()} == {n: v["help"] for n, v in originals.items()}
        assert declared.get("apply", {}).get("default") in (None, "False"), "the lab never arms a copy"
        others = [c["source"] for c in copy["cells"] if "parameters" not in c["metadata"].get("tags", [])]
        assert others == [
            c["source"]
            for c in json.loads(template.read_text())["cells"]
            if "parameters" not in c["metadata"].get("tags", [])
        ], template.name


def test_values_are_written_into_the_parameters_cell_as_papermill_writes_them():
    """Each value lands as the default of its own line (annotation and help kept), in papermill's rendering, and
    reads back as the same value; names the cell does not declare are left out, and no cell is added."""
    import ast

    from papermill.translators import PythonTranslator

    source = (
        'name: str = "old"  # help one\nflag: bool = False  # help two\nitems: list = []\n'
        'nothing = "x"\nmapping: dict = {}  # help five\n'
    )
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
    }
    values = {
        "name": 'say "hi" \\ there\n',
        "flag": True,
        "items": ["a", 1, None],
        "nothing": None,
        "mapping": {"k": "v"},
        "undeclared": "ignored",
    }
    labcopies.prepare_notebook(nb, {"cells": []}, values)
    assert len(nb["cells"]) == 1
    written = nb["cells"][0]["source"]
    lines = written.splitlines()
    assert lines[0] == f"name: str = {PythonTranslator.translate(values['name'])}  # help one"
    assert lines[1] == "flag: bool = True  # help two" and lines[3] == "nothing = None"
    assert lines[4] == 'mapping: dict = {"k": "v"}  # help five'
    assert {name: ast.literal_eval(text) for name, text in labcopies.defaults(written).items()} == {
        name: value for name, value in values.items() if name != "undeclared"
    }


def test_a_copy_left_from_an_earlier_lab_loses_its_injected_cell(tmp_path):
    labcopies.prepare_copies("staging", "http://127.0.0.1:1111", lab_dir=tmp_path)
    copy = tmp_path / "staging" / "02-plan-and-apply.ipynb"
    nb = json.loads(copy.read_text())
    nb["cells"].insert(
        2,
        {
            "cell_type": "code",
            "id": "inj",
            "metadata": {"tags": ["injected-parameters"]},
            "execution_count": None,
            "outputs": [],
            "source": 'environment = "production"\n',
        },
    )
    copy.write_text(json.dumps(nb))
    labcopies.prepare_copies("staging", "http://127.0.0.1:2222", lab_dir=tmp_path)
    assert "injected-parameters" not in copy.read_text()


def test_nothing_stays_armed_and_old_outputs_are_cleared(tmp_path):
    labcopies.prepare_copies("production", "http://127.0.0.1:1111", lab_dir=tmp_path)
    copy = tmp_path / "production" / "02-plan-and-apply.ipynb"
    nb = json.loads(copy.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = (
        cell["source"]
        .replace("apply: bool = False", "apply: bool = True")
        .replace('confirm: str = ""', 'confirm: str = "production-user-notifications"')
        .replace('plan_sha256: str = ""', 'plan_sha256: str = "ab" * 32')
    )
    cell["source"] += "\nsmoke: int = 3  # mine\n"
    nb["cells"][4]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "an earlier emulator"}]
    nb["cells"][4]["execution_count"] = 7
    copy.write_text(json.dumps(nb))
    report = labcopies.prepare_copies("production", "http://127.0.0.1:2222", lab_dir=tmp_path)
    assert report.reset["02-plan-and-apply.ipynb"] == [
        "apply = True -> False",
        'confirm = "production-user-notifications" -> ""',
        'plan_sha256 = "ab" * 32 -> ""',
    ]
    assert report.cleared == ["02-plan-and-apply.ipynb"]
    again = json.loads(copy.read_text())
    source = next(c["source"] for c in again["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "apply: bool = False" in source and 'confirm: str = ""' in source and "smoke: int = 3  # mine" in source
    assert all(
        not c.get("outputs") and c.get("execution_count") is None for c in again["cells"] if c["cell_type"] == "code"
    )
    lab = labmod.Lab(
        1,
        "t",
        "http://127.0.0.1:2222",
        tmp_path / "production",
        None,
        tmp_path / "log",
        {"AWS_REGION": "us-east-1"},
        report,
        "production",
    )
    message = labmod.startup_message(lab)
    assert "Reset:         02-plan-and-apply.ipynb: apply = True -> False" in message
    assert "Cleared:       outputs of 02-plan-and-apply.ipynb" in message


def test_a_broken_parameters_cell_is_named_kept_and_refreshable(tmp_path):
    labcopies.prepare_copies("staging", "http://127.0.0.1:1111", lab_dir=tmp_path)
    copy = tmp_path / "staging" / "03-import.ipynb"
    nb = json.loads(copy.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = (
        cell["source"]
        .replace('work_dir: str = "', 'work_dir: str = "oops ', 1)
        .replace("apply: bool = False", "apply: bool = = True")
    )
    broken = json.dumps(nb)
    copy.write_text(broken)
    report = labcopies.prepare_copies("staging", "http://127.0.0.1:2222", lab_dir=tmp_path)
    assert [(b.notebook, b.line) for b in report.broken] == [("03-import.ipynb", 7)]
    assert copy.read_text() == broken, "the operator's broken copy is kept as it is"
    lab = labmod.Lab(1, "t", "x", tmp_path / "staging", None, tmp_path / "log", {}, report, "staging")
    message = labmod.startup_message(lab)
    assert "03-import.ipynb: the parameters cell does not parse (line 7 of the cell" in message
    assert "runbook lab --refresh 03-import" in message
    report = labcopies.prepare_copies("staging", "http://127.0.0.1:2222", lab_dir=tmp_path, refresh=["03"])
    assert report.refreshed == ["03-import.ipynb"] and not report.broken
    from runbook.errors import ParameterError

    with pytest.raises(ParameterError) as error:
        labcopies.refresh_names(["07"])
    assert "--refresh" in str(error.value) and "02-plan-and-apply" in str(error.value)


def test_an_edited_copy_is_kept_and_refresh_replaces_it(tmp_path):
    labcopies.prepare_copies("staging", "http://127.0.0.1:1111", lab_dir=tmp_path)
    copy = tmp_path / "staging" / "02-plan-and-apply.ipynb"
    nb = json.loads(copy.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": "mine", "metadata": {}, "source": "my note"})
    copy.write_text(json.dumps(nb))
    report = labcopies.prepare_copies("staging", "http://127.0.0.1:2222", lab_dir=tmp_path)  # a later start
    kept = json.loads(copy.read_text())
    assert "02-plan-and-apply.ipynb" in report.kept and not report.created
    assert kept["cells"][-1]["source"] == "my note", "the operator's edit survives a restart"
    assert "http://127.0.0.1:2222" in json.dumps(kept), "the endpoint default is this lab's"
    assert "http://127.0.0.1:1111" not in json.dumps(kept)
    report = labcopies.prepare_copies("staging", "http://127.0.0.1:3333", refresh=True, lab_dir=tmp_path)
    assert "02-plan-and-apply.ipynb" in report.refreshed
    assert "my note" not in copy.read_text()


def test_an_unedited_copy_follows_its_template_and_an_edited_one_is_reported(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("01-setup.ipynb", "02-plan-and-apply.ipynb"):
        (templates / name).write_text((paths.NOTEBOOKS / name).read_text())
    labcopies.prepare_copies("staging", "http://x:1", lab_dir=tmp_path, templates=templates)
    edited = tmp_path / "staging" / "02-plan-and-apply.ipynb"
    edited.write_text(edited.read_text().replace("comes from the same plan", "comes from MY plan"))
    for name in ("01-setup.ipynb", "02-plan-and-apply.ipynb"):  # the templates change (a git pull)
        nb = json.loads((templates / name).read_text())
        nb["cells"].append({"cell_type": "markdown", "id": "new", "metadata": {}, "source": "new upstream"})
        (templates / name).write_text(json.dumps(nb))
    report = labcopies.prepare_copies("staging", "http://x:1", lab_dir=tmp_path, templates=templates)
    assert report.refreshed == ["01-setup.ipynb"] and report.outdated == ["02-plan-and-apply.ipynb"]
    assert "new upstream" in (tmp_path / "staging" / "01-setup.ipynb").read_text()
    assert "MY plan" in edited.read_text() and "new upstream" not in edited.read_text()
    again = labcopies.prepare_copies("staging", "http://x:1", lab_dir=tmp_path, templates=templates)
    assert again.outdated == ["02-plan-and-apply.ipynb"], "reported at every start until refreshed"


def test_a_notebook_for_another_environment_is_refused_in_a_lab_kernel(monkeypatch):
    from runbook.errors import ParameterError
    from runbook.steps.context import open_context

    monkeypatch.setenv("RUNBOOK_LAB_ENVIRONMENT", "staging")
    with pytest.raises(ParameterError) as refused:
        open_context("production", "us-east-1", "http://127.0.0.1:9", check_endpoint=False)
    assert "runbook lab --env production" in str(refused.value) and "'environment'" in str(refused.value)
    monkeypatch.delenv("RUNBOOK_LAB_ENVIRONMENT")
    open_context("production", "us-east-1", "http://127.0.0.1:9", check_endpoint=False)  # outside a lab: fine


def test_terminals_get_the_project_and_kernels_the_lab_environment(tmp_path):
    environment = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ACCESS_KEY_ID": "testing"}
    variables, shell = labmod.lab_files("production", environment, tmp_path)
    rc = (tmp_path / "production" / ".jupyter" / "bashrc").read_text()
    assert f'export PATH="{os.path.dirname(sys.executable)}:$PATH"' in rc
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:5000" in rc and "unset JUPYTER_PATH" in rc
    assert shell[1:3] == ["--rcfile", str(tmp_path / "production" / ".jupyter" / "bashrc")]
    kernel = json.loads(
        (Path(variables["JUPYTER_PATH"].split(os.pathsep)[0]) / "kernels" / "python3" / "kernel.json").read_text()
    )
    assert kernel["env"] == {"RUNBOOK_LAB_ENVIRONMENT": "production"}
    assert "runbook.execution.labkernel" in " ".join(kernel["argv"])
    for name in ("JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_CONFIG_DIR"):
        assert variables[name].startswith(str(tmp_path / "production" / ".jupyter")), name
    assert "PRODUCTION" in (Path(variables["JUPYTER_CONFIG_DIR"]) / "custom" / "custom.css").read_text()


@pytest.mark.slow  # starts JupyterLab
def test_saving_through_the_lab_leaves_the_checkout_clean_and_the_links_read_only(tmp_path):
    before = _git_status()
    templates = {p: p.read_bytes() for p in paths.NOTEBOOKS.glob("*.ipynb")}
    with running_lab(lab_dir=tmp_path) as lab:
        model = lab.api("GET", "/api/contents/02-plan-and-apply.ipynb")
        nb = model["content"]
        for cell in nb["cells"]:
            if "parameters" in cell["metadata"].get("tags", []):
                cell["source"] = cell["source"].replace("apply: bool = False", "apply: bool = True")
        nb["cells"][0].setdefault("outputs", [])
        saved = lab.api(
            "PUT", "/api/contents/02-plan-and-apply.ipynb", {"type": "notebook", "format": "json", "content": nb}
        )
        assert saved["path"] == "02-plan-and-apply.ipynb"
        lab.api("POST", "/api/contents/02-plan-and-apply.ipynb/checkpoints")
        assert "apply: bool = True" in (tmp_path / "staging" / "02-plan-and-apply.ipynb").read_text()

        listing = {item["name"]: item for item in lab.api("GET", "/api/contents")["content"]}
        assert {"infrastructure", "docs"} <= set(listing) and not listing["infrastructure"]["writable"]
        readme = "infrastructure/staging/modules/dynamodb/README.md"
        opened = lab.api("GET", f"/api/contents/{readme}")
        assert opened["writable"] is False and opened["content"]
        for method, path, body in (
            ("PUT", readme, {"type": "file", "format": "text", "content": "changed"}),
            ("POST", f"{readme}/checkpoints", None),
            ("DELETE", readme, None),
            ("PATCH", readme, {"path": "infrastructure/moved.md"}),
            ("PUT", "docs/new.md", {"type": "file", "format": "text", "content": "new"}),
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                lab.api(method, f"/api/contents/{path}", body)
            assert refused.value.code == 403, (method, path)
    assert _git_status() == before, "the lab wrote into the checkout"
    assert {p: p.read_bytes() for p in paths.NOTEBOOKS.glob("*.ipynb")} == templates


@pytest.mark.slow  # starts JupyterLab
def test_no_news_prompt_no_update_check_and_readable_names(tmp_path):
    with running_lab(lab_dir=tmp_path) as lab:

        def default(plugin: str, name: str):  # overrides.json becomes the schema's default, as the page sees it
            return lab.api("GET", f"/lab/api/settings/{plugin}")["schema"]["properties"][name]["default"]

        assert default("@jupyterlab/apputils-extension:notification", "fetchNews") == "false"  # no news prompt
        assert default("@jupyterlab/apputils-extension:notification", "checkForUpdates") is False
        assert default("@jupyterlab/filebrowser-extension:browser", "showLastModifiedColumn") is False
        assert default("@jupyterlab/docmanager-extension:plugin", "defaultViewers") == {"markdown": "Markdown Preview"}
        assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in lab_command(1, "t", tmp_path)
        listing = {item["name"] for item in lab.api("GET", "/api/contents")["content"]}
        assert {"START.md", "terraform.tfvars"} <= listing
    settings = tmp_path / "staging" / ".jupyter" / "app-settings"
    assert (settings / "overrides.json").exists(), "per-lab settings, not the venv's"
    assert json.loads((settings / "page_config.json").read_text())["appName"] == "staging · runbook lab"


@pytest.mark.slow  # starts JupyterLab
@pytest.mark.browser
def test_in_a_browser_no_news_prompt_and_whole_file_names(tmp_path):
    """Debian's chromium, headless, on the running lab: the page JupyterLab renders has no news prompt, and the
    file browser's name column gets the width (no last-modified column cutting "02-plan-and-apply.ipynb")."""
    import re
    import shutil
    import tempfile

    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    with running_lab(lab_dir=tmp_path / "lab") as lab, tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        dom = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                f"--user-data-dir={profile}",
                "--window-size=1280,900",
                "--virtual-time-budget=20000",
                "--dump-dom",
                lab.url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        ).stdout
    assert "jp-DirListing-item" in dom and "02-plan-and-apply.ipynb" in dom, dom[-2000:]
    assert "official Jupyter news" not in dom, "the news prompt is shown"
    assert not re.search(r"<div class=\"jp-DirListing-headerItem jp-id-modified", dom), "a last-modified column"
    width = int(re.search(r'jp-DirListing-headerItem jp-id-name[^"]*" style="width: (\d+)px', dom).group(1))
    assert width >= 200, f"the name column is {width}px wide"
