"""`runbook lab`: JupyterLab on loopback lists the notebooks, and a kernel it starts reaches the embedded emulator."""

import json
import os
import subprocess
import sys
import time
import uuid

import boto3
import pytest

from runbook import paths
from runbook.lab import lab_command, running_lab

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
        header=[f"Authorization: token {lab.token}"], timeout=timeout)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
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


def test_command_is_loopback_with_token():
    command = lab_command(8888, "abc", paths.NOTEBOOKS)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.ip=127.0.0.1" in command and "--IdentityProvider.token=abc" in command
    assert f"--ServerApp.root_dir={paths.NOTEBOOKS}" in command and "--no-browser" in command


def test_lab_lists_notebooks_and_a_kernel_reaches_the_emulator():
    with running_lab() as lab:
        assert lab.url.startswith(f"http://127.0.0.1:{lab.port}/lab?token=") and len(lab.token) >= 32
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
        boto3.client("dynamodb", endpoint_url=lab.endpoint_url, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing").create_table(
            TableName="lab-probe", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])

        notebook = sorted(expected)[0]
        session = lab.api("POST", "/api/sessions", {"path": notebook, "name": notebook, "type": "notebook",
                                                    "kernel": {"name": "python3"}})
        out = execute(lab, session["kernel"]["id"], KERNEL_CODE)
        result = json.loads(out.split("RESULT ", 1)[1])
        assert "lab-probe" in result["tables"]  # (moto's state is per process: other tests' tables may show)
        assert result["endpoint"] == lab.endpoint_url
        assert result["cwd"] == str(paths.NOTEBOOKS)
        kernel_pid, server = result["pid"], lab.process
    # everything stopped: the server and the kernel it started
    assert server.poll() is not None
    deadline = time.monotonic() + 10
    while pid_alive(kernel_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(kernel_pid), "the kernel outlived JupyterLab"


def test_runbook_lab_command_prints_url_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "runbook.cli", "lab"], cwd=paths.ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops both" in line:
                break
        text = "".join(lines)
        assert "JupyterLab:    http://127.0.0.1:" in text and "/lab?token=" in text, text
        assert "AWS emulator:  http://127.0.0.1:" in text, text
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, text + out
        assert "Stopped." in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
