"""Every long-running command stops with everything it started, on SIGTERM/SIGHUP as on Ctrl-C (issue 19).

Each test starts the command as CI or a service manager would (its own session: the signal reaches only the
command), waits until it is ready, records the processes below it (psutil) and the ports they listen on, sends
the signal, then asserts the conventional exit status (130 SIGINT, 143 SIGTERM, 129 SIGHUP), that none of those
processes is alive and that the ports are closed. A SIGKILL of the command leaves nothing alive either.

``runbook run`` runs tiny notebooks from a scratch checkout (``RUNBOOK_ROOT``): the second one runs a stand-in
for Terraform (``subprocess.run`` with captured output, as ``Terraform.run`` does) that records the signal it
gets; the test asserts it got SIGINT/SIGTERM itself, before its kernel stopped.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from runbook import paths

psutil = pytest.importorskip("psutil")
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process-tree checks use Linux /proc"),
    pytest.mark.slow,
]  # each test starts runbook run, lab, docs --serve or the emulator in its own process

RUNBOOK = [sys.executable, "-m", "runbook.cli"]
STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


class Command:
    """A ``runbook`` command in its own session, its output collected by a thread."""

    def __init__(self, argv: list[str], env: dict | None = None, cwd: Path | None = None):
        self.process = subprocess.Popen(
            [*RUNBOOK, *argv],
            cwd=cwd or paths.ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            assert self.process.poll() is None, f"exited {self.process.returncode} before {pattern!r}:\n{self.output}"
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not seen within {timeout}s:\n{self.output}")

    def tree(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def listening_ports(processes: list[psutil.Process]) -> set[int]:
    ports = set()
    for process in processes:
        try:
            ports |= {c.laddr.port for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        except psutil.Error:
            pass
    return ports


def gone(process: psutil.Process) -> bool:
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def assert_all_gone(processes: list[psutil.Process], within: float, output: str = "") -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and not all(gone(p) for p in processes):
        time.sleep(0.1)
    alive = [p for p in processes if not gone(p)]
    try:
        assert not alive, f"still running: {[(p.pid, p.cmdline()[:4]) for p in alive]}\n{output}"
    finally:
        for process in alive:  # never leave them behind, even when the test fails
            try:
                process.kill()
            except psutil.Error:
                pass


def assert_closed(ports: set[int]) -> None:
    for port in ports:
        with socket.socket() as sock:
            sock.settimeout(1)
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still accepts connections"


def stop_and_check(command: Command, sig: int, *, within: float = 15.0, expect_children: int = 1) -> str:
    """Record the tree and its ports, send ``sig``, assert status, nothing alive, ports closed."""
    tree = command.tree()
    ports = listening_ports([psutil.Process(command.process.pid), *tree])
    assert len(tree) >= expect_children, f"expected children, found {tree}"
    started = time.monotonic()
    command.process.send_signal(sig)
    try:
        status = command.process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        command.kill()
        raise AssertionError(f"still running {within}s after {sig!r}:\n{command.output}")
    elapsed = time.monotonic() - started
    time.sleep(0.2)  # the reader thread catches up
    assert status == STATUS[sig], f"exit {status} after {sig!r}, expected {STATUS[sig]}:\n{command.output}"
    assert_all_gone(tree, 5.0, command.output)
    assert_closed(ports)
    return f"{elapsed:.1f}s"


def kill_and_check(command: Command, within: float = 8.0) -> None:
    tree = command.tree()
    assert tree, "expected children"
    command.process.kill()
    command.process.wait()
    assert_all_gone(tree, within, command.output)


# -- runbook emulator -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_emulator_stops_on(sig):
    command = Command(["emulator"])
    try:
        port = int(command.wait_for(r"listening on http://127\.0\.0\.1:(\d+)", 60).group(1))
        command.process.send_signal(sig)
        assert command.process.wait(timeout=15) == STATUS[sig], command.output
        assert_closed({port})
    finally:
        command.kill()


# -- runbook docs --serve -------------------------------------------------------------------------------------
def _docs(tmp_path, listening: bool = True) -> Command:
    """``runbook docs --serve``, ready when mkdocs listens (its first build of the site takes a while on a busy
    machine), or (``listening=False``) as soon as mkdocs runs."""
    runs = tmp_path / "runs"
    runs.mkdir()  # published as is: nothing is executed first
    command = Command(["docs", "--serve"], env={"RUNBOOK_DOCS_RUNS": str(runs)})
    port = int(command.wait_for(r"Serving the site on http://127\.0\.0\.1:(\d+)/", 60).group(1))
    if not listening:
        while not any("mkdocs" in " ".join(p.cmdline()) for p in command.tree()):
            time.sleep(0.1)
        time.sleep(1.0)
        return command
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # mkdocs listens once its first build is done
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return command
        assert command.process.poll() is None, command.output
        time.sleep(0.2)
    raise AssertionError(f"mkdocs did not listen on {port}:\n{command.output}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_docs_serve_stops_mkdocs_on(sig, tmp_path):
    command = _docs(tmp_path, listening=sig == signal.SIGTERM)  # one waits for the port, to see it closed
    try:
        stop_and_check(command, sig)
    finally:
        command.kill()


def test_docs_serve_killed_leaves_no_mkdocs(tmp_path):
    command = _docs(tmp_path, listening=False)
    try:
        kill_and_check(command)
    finally:
        command.kill()


# -- runbook lab ----------------------------------------------------------------------------------------------
def _lab(tmp_path) -> tuple[Command, dict]:
    command = Command(["lab"], env={"RUNBOOK_LAB_DIR": str(tmp_path / "lab")})
    match = command.wait_for(r"JupyterLab:\s+http://127\.0\.0\.1:(\d+)/lab\S*\?token=(\w+)", 120)
    command.wait_for(r"stops JupyterLab, its kernels and the emulator", 30)
    port, token = int(match.group(1)), match.group(2)
    import urllib.request

    request = urllib.request.Request(  # a kernel, as opening a runbook starts one
        f"http://127.0.0.1:{port}/api/sessions",
        method="POST",
        data=json.dumps(
            {"path": "01-setup.ipynb", "type": "notebook", "name": "01-setup.ipynb", "kernel": {"name": "python3"}}
        ).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        session = json.loads(response.read())
    return command, session


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_lab_stops_jupyterlab_kernels_and_emulator_on(sig, tmp_path):
    command, _ = _lab(tmp_path)
    try:
        names = " ".join(" ".join(p.cmdline()) for p in command.tree())
        assert "runbook.execution.labserver" in names and "ipykernel" in names, names
        stop_and_check(command, sig, expect_children=2)
        assert "Stopped." in command.output
    finally:
        command.kill()


def test_lab_killed_leaves_no_jupyterlab_nor_kernel(tmp_path):
    command, _ = _lab(tmp_path)
    try:
        kill_and_check(command)
    finally:
        command.kill()


# -- runbook run ----------------------------------------------------------------------------------------------
FAKE_TERRAFORM = """
import os, signal, sys, time
marker = sys.argv[1]
ignore = len(sys.argv) > 2
def handler(signum, frame):
    if ignore:
        return
    with open(marker + ".released", "w") as f:
        f.write(signal.Signals(signum).name)  # Terraform: "Interrupt received", releases its lock, exits
    time.sleep(0.3)
    sys.exit(1)
signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
with open(marker + ".started", "w") as f:
    f.write(str(os.getpid()))
time.sleep(120)
"""


def scratch_checkout(tmp_path: Path, ignore_signals: bool = False) -> Path:
    """A checkout with three tiny notebooks; the second runs the Terraform stand-in."""
    root = tmp_path / "checkout"
    (root / "notebooks" / "environments").mkdir(parents=True)
    (root / "infrastructure").symlink_to(paths.INFRASTRUCTURE, target_is_directory=True)
    for env in paths.ENVIRONMENTS:
        (root / "notebooks" / "environments" / f"{env}.yaml").write_text(f"environment: {env}\n")
    (tmp_path / "fake_terraform.py").write_text(FAKE_TERRAFORM)
    marker = tmp_path / "terraform"
    extra = ', "ignore"' if ignore_signals else ""
    sources = {
        "01-first": "print('first done')",
        "02-terraform": (
            "import subprocess, sys\n"  # one marker per environment: 'terraform-staging.started'
            f"subprocess.run([sys.executable, {str(tmp_path / 'fake_terraform.py')!r}, "
            f"{str(marker)!r} + '-' + environment{extra}], capture_output=True, text=True)\n"
            "print('terraform returned')"
        ),
        "03-last": "print('never')",
    }
    for name, source in sources.items():
        nb = new_notebook(
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        )
        parameters = new_code_cell('environment: str = "staging"  # env\naws_endpoint_url: str = ""  # endpoint')
        parameters.metadata["tags"] = ["parameters"]
        nb.cells = [parameters, new_code_cell(source)]
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
    return root


def _run(tmp_path, ignore_signals: bool = False, env: str = "staging") -> tuple[Command, Path]:
    """``runbook run --env env`` on the scratch checkout, once every environment's stand-in has started; the path
    of the staging stand-in's ``.released`` marker (``terraform-<env>.released`` for the others)."""
    root = scratch_checkout(tmp_path, ignore_signals)
    command = Command(
        ["run", "--env", env, "--output-dir", str(tmp_path / "runs"), "--work-dir", str(tmp_path / "work")],
        env={"RUNBOOK_ROOT": str(root)},
        cwd=root,
    )
    environments = paths.ENVIRONMENTS if env == "all" else (env,)
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"terraform-{name}.started").exists() for name in environments):
        assert time.monotonic() < deadline, f"the stand-in never started:\n{command.output}"
        assert command.process.poll() is None, command.output
        time.sleep(0.1)
    return command, tmp_path / "terraform-staging.released"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_run_interrupted_keeps_notebooks_releases_locks_and_stops_everything(sig, tmp_path):
    from runbook.execution.runner import lock_work_dir

    command, released = _run(tmp_path)
    try:
        names = " ".join(" ".join(p.cmdline()) for p in command.tree())
        assert "ipykernel" in names and "fake_terraform" in names, names
        stop_and_check(command, sig, within=20, expect_children=2)
    finally:
        command.kill()
    # Terraform's stand-in got the signal itself (Terraform releases its state lock on it), not a SIGKILL
    assert released.read_text() == signal.Signals(sig).name
    summary = command.output
    assert re.search(r"02-terraform\s.*interrupted", summary), summary
    assert re.search(r"01-first\s.*ok", summary) and re.search(r"03-last\s.*skipped", summary), summary
    runs = tmp_path / "runs" / "staging"
    first = nbformat.read(runs / "01-first.ipynb", as_version=4)
    assert "first done" in json.dumps(first.cells[-1].outputs)
    interrupted = nbformat.read(runs / "02-terraform.ipynb", as_version=4)  # kept as far as it ran
    assert interrupted.cells[-1].execution_count, "the interrupted notebook is kept with what it executed"
    assert not (runs / "03-last.ipynb").exists()
    lock_work_dir(tmp_path / "work" / "staging").close()  # the work-directory lock was released


def test_run_of_every_environment_interrupted_stops_each_environments_worker(tmp_path):
    """``--env all`` runs each environment in a worker process of its own session: the stop request reaches each
    worker (registered by pid as it starts), which interrupts its own Terraform."""
    command, _ = _run(tmp_path, env="all")
    try:
        stop_and_check(command, signal.SIGTERM, within=30, expect_children=4)
    finally:
        command.kill()
    # each environment's Terraform got the signal itself (from its own worker's kernel), not a SIGKILL; the
    # summary table is the single-environment test's to check (here, on a loaded machine, a worker that does not
    # return its results within the grace period is forced, and the run ends without its rows)
    for name in paths.ENVIRONMENTS:
        assert (tmp_path / f"terraform-{name}.released").read_text() == "SIGTERM", name


def test_run_killed_leaves_no_kernel_nor_terraform(tmp_path):
    command, _ = _run(tmp_path)
    try:
        kill_and_check(command)
    finally:
        command.kill()


def test_a_second_signal_forces_the_stop(tmp_path):
    command, _ = _run(tmp_path, ignore_signals=True)  # a child that would keep the first stop waiting its grace
    try:
        tree = command.tree()
        command.process.send_signal(signal.SIGTERM)
        command.wait_for(r"SIGTERM received: stopping", 10)
        time.sleep(0.5)
        started = time.monotonic()
        command.process.send_signal(signal.SIGTERM)
        assert command.process.wait(timeout=10) == 143, command.output
        assert time.monotonic() - started < 6, "the second signal must not wait for the grace period"
        assert_all_gone(tree, 5.0, command.output)
    finally:
        command.kill()


HANGING_SHUTDOWN = """
import time
from runbook import processes

processes.ACKNOWLEDGE_WITHIN = 0.2
with processes.supervise(watchdog=False) as supervisor:
    supervisor.force_after = 1.0
    print("ready", flush=True)
    while True:  # a shutdown that hangs: it swallows the nudge and carries on
        try:
            time.sleep(0.05)
        except processes.Interrupted:
            print("nudged", flush=True)
"""


def test_a_shutdown_that_hangs_is_forced_and_leaves_by_a_normal_exit():
    """After ``force_after`` the stop is forced from the supervisor's thread: the main thread gets SystemExit (no
    ``os._exit``), so the command still exits 128 + signal."""
    process = subprocess.Popen(
        [sys.executable, "-c", HANGING_SHUTDOWN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=paths.ROOT,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert "nudged" in out and "forcing the stop" in err, (out, err)
    assert time.monotonic() - started < 10


def test_run_stopped_while_it_bootstraps_its_emulator_stops_terraform_first(tmp_path):
    """``runbook run`` bootstraps its own emulator's state bucket while 01's kernel boots
    (runbook.execution.bucket_ahead):
    a stop then reaches that Terraform as it reaches a notebook's, and nothing is left running."""
    root = tmp_path / "checkout"
    (root / "notebooks" / "environments").mkdir(parents=True)
    (root / "infrastructure").symlink_to(paths.INFRASTRUCTURE, target_is_directory=True)
    for env in paths.ENVIRONMENTS:
        text = f"environment: {env}\naws_region: us-east-1\n"  # a region: the runner bootstraps the bucket for it
        (root / "notebooks" / "environments" / f"{env}.yaml").write_text(text)
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    parameters = new_code_cell('environment: str = "staging"  # env\naws_endpoint_url: str = ""  # endpoint')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, new_code_cell("import time\ntime.sleep(120)")]
    nbformat.write(nb, root / "notebooks" / "01-setup.ipynb")
    command = Command(
        ["run", "--output-dir", str(tmp_path / "runs"), "--work-dir", str(tmp_path / "work")],
        env={"RUNBOOK_ROOT": str(root)},
        cwd=root,
    )
    try:
        deadline = time.monotonic() + 60
        while not any("terraform" in " ".join(p.cmdline()) for p in _alive(command.tree())):
            assert time.monotonic() < deadline, f"no Terraform started:\n{command.output}"
            assert command.process.poll() is None, command.output
            time.sleep(0.1)
        names = " ".join(" ".join(p.cmdline()) for p in _alive(command.tree()))
        assert "runbook.execution.bucket_ahead" in names and "ipykernel" in names, names
        stop_and_check(command, signal.SIGINT, within=30, expect_children=3)
    finally:
        command.kill()
    assert re.search(r"01-setup\s.*interrupted", command.output), command.output


def _alive(processes: list) -> list:
    alive = []
    for process in processes:
        try:
            process.cmdline()
            alive.append(process)
        except psutil.Error:
            pass
    return alive


def test_a_failed_run_leaves_no_process_behind(tmp_path):
    """A notebook that fails with a child still running (a Terraform started by one of its threads, a kernel
    booting ahead): the run exits 1 and nothing it started is alive after it (issue 32, ``--target aws`` with no
    credentials left a kernel and a Terraform)."""
    root = tmp_path / "checkout"
    (root / "notebooks" / "environments").mkdir(parents=True)
    (root / "infrastructure").symlink_to(paths.INFRASTRUCTURE, target_is_directory=True)
    for env in paths.ENVIRONMENTS:
        (root / "notebooks" / "environments" / f"{env}.yaml").write_text(f"environment: {env}\n")
    (tmp_path / "fake_terraform.py").write_text(FAKE_TERRAFORM)
    pid_file = tmp_path / "leftover.pid"
    sources = {  # the stand-in, in a session of its own, outlives its kernel unless the run stops it
        "01-fails": (
            "import subprocess, sys, time\n"
            f"child = subprocess.Popen([sys.executable, {str(tmp_path / 'fake_terraform.py')!r}, "
            f"{str(tmp_path / 'terraform')!r}], start_new_session=True)\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(1.5)\n"  # it works a while (the run's watchdog sees it), then the notebook fails
            "raise RuntimeError('no credentials')"
        ),
        "02-never": "print('never')",
    }
    for name, source in sources.items():
        nb = new_notebook(
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        )
        parameters = new_code_cell('environment: str = "staging"  # env\naws_endpoint_url: str = ""  # endpoint')
        parameters.metadata["tags"] = ["parameters"]
        nb.cells = [parameters, new_code_cell(source)]
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
    marker = f"runbook-failed-run-{os.getpid()}-{time.monotonic_ns()}"
    command = Command(
        ["run", "--target", "aws", "--output-dir", str(tmp_path / "runs"), "--work-dir", str(tmp_path / "work")],
        env={"RUNBOOK_ROOT": str(root), "RUNBOOK_TEST_MARKER": marker},
        cwd=root,
    )
    try:
        assert command.process.wait(timeout=120) == 1, command.output
    finally:
        command.kill()
    assert re.search(r"01-fails\s.*FAILED", command.output), command.output
    leftover = psutil.Process(int(pid_file.read_text())) if pid_file.exists() else None
    assert leftover is not None, command.output
    assert_all_gone([leftover], 2.0, command.output)
    started = [
        p
        for p in psutil.process_iter(["environ"])
        if (p.info.get("environ") or {}).get("RUNBOOK_TEST_MARKER") == marker
    ]
    assert not _alive(started), [" ".join(p.cmdline()) for p in _alive(started)]


def test_run_against_aws_without_credentials_fails_clearly_and_leaves_nothing(tmp_path):
    """Issue 32's report, as an operator meets it: ``runbook run --target aws`` with no credentials at all."""
    marker = f"runbook-no-credentials-{os.getpid()}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        RUNBOOK_TEST_MARKER=marker,
    )
    proc = subprocess.run(
        [
            *RUNBOOK,
            "run",
            "--target",
            "aws",
            "--only",
            "01",
            "--output-dir",
            str(tmp_path / "runs"),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"01-setup\s.*FAILED", proc.stdout + proc.stderr), proc.stdout + proc.stderr
    from runbook.execution.record import read_records

    checks = read_records(tmp_path / "runs" / "staging" / "01-setup.ipynb")["checks"]
    identity = next(c for c in checks if c["name"] == "AWS identity (STS)")  # the failed check says why
    assert not identity["ok"] and "credentials" in identity["fix"], identity
    started = [
        p
        for p in psutil.process_iter(["environ"])
        if (p.info.get("environ") or {}).get("RUNBOOK_TEST_MARKER") == marker
    ]
    assert not _alive(started), [" ".join(p.cmdline()) for p in _alive(started)]
