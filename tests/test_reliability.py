"""Reliability guarantees (issue #7), on the real notebooks.

1. ``runbook run --env all`` with one broken environment still runs and reports the other.
2. An executed (output) notebook can be executed again as papermill's input: the injected parameters are
   replaced, not stacked, and the run records the same values.
3. Every notebook rejects a bad value of every parameter it declares in its first code cell, naming the
   parameter and the value, before any AWS call (a counting HTTP endpoint receives no request).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import papermill
import pytest

from runbook import paths
from runbook.execution import runner
from runbook.execution.record import MIME_TYPE, read_records

pytestmark = pytest.mark.notebooks

RUNBOOK = [sys.executable, "-m", "runbook.cli"]
NOTEBOOKS = {nb.stem: nb for nb in runner.discover_notebooks()}
#: Every parameter each notebook declares, in the order of its parameters cell.
DECLARED = {stem: list(papermill.inspect_notebook(str(nb))) for stem, nb in NOTEBOOKS.items()}


# -- helpers --------------------------------------------------------------------------------------------------
def tagged(nb: dict, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb["cells"]) if tag in cell.get("metadata", {}).get("tags", [])]


def failed_cells(nb: dict) -> list[int]:
    return [i for i, cell in enumerate(nb["cells"]) if cell.get("metadata", {}).get("papermill", {}).get("exception")]


def record_outputs(nb: dict) -> list[str]:
    """The name of every record output, in order, duplicates included (a stacked re-run would repeat them)."""
    return [
        output["data"][MIME_TYPE]["name"]
        for cell in nb["cells"]
        for output in cell.get("outputs", []) or []
        if MIME_TYPE in output.get("data", {})
    ]


def load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


class CountingEndpoint:
    """An HTTP server on 127.0.0.1 that answers every request 403 and remembers it."""

    def __init__(self):
        self.requests: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def parse_request(self):
                parsed = super().parse_request()
                if parsed:
                    endpoint.requests.append(f"{self.command} {self.path}")
                return parsed

            def refuse(self):
                self.close_connection = True
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = refuse

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_endpoint():
    with CountingEndpoint() as endpoint:
        yield endpoint


def test_the_counting_endpoint_counts():
    """The instrument of test 3 works: a real boto3 call on it is counted (so zero means zero)."""
    from runbook.aws.target import Target

    with CountingEndpoint() as endpoint:
        with pytest.raises(Exception):
            Target("us-east-1", endpoint.url).client("dynamodb").list_tables()
    assert endpoint.requests and endpoint.requests[0].startswith("POST /")


# -- 1. one broken environment does not hide the other ------------------------------------------------------
def copy_repository(root: Path) -> None:
    """What RUNBOOK_ROOT must hold (runbook/paths.py): notebooks/ (with environments/) and infrastructure/."""
    ignore = shutil.ignore_patterns(
        ".terraform",
        "*.tfstate",
        "*.tfstate.*",
        "terraform.tfvars",
        "tfplan",
        ".terraform.lock.hcl",
        ".ipynb_checkpoints",
    )
    for name in ("notebooks", "infrastructure"):
        shutil.copytree(paths.ROOT / name, root / name, ignore=ignore)


def summary_rows(stdout: str) -> dict[tuple[str, str], dict]:
    """The rows of the summary table: (environment, notebook) → status and the first line of details."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) == 5 and cells[0] in paths.ENVIRONMENTS:
            rows[(cells[0], cells[1])] = {"status": cells[2], "details": cells[4]}
    return rows


def test_run_all_with_a_broken_production_still_reports_staging(tmp_path):
    root = tmp_path / "repo"
    copy_repository(root)
    production = root / "notebooks" / "environments" / "production.yaml"
    broken, count = re.subn(r"(?m)^aws_region: .*$", "aws_region: moon-1", production.read_text())
    assert count == 1
    production.write_text(broken)
    work = tmp_path / "work"

    env = {**os.environ, "RUNBOOK_ROOT": str(root), "COLUMNS": "400"}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.run(
        RUNBOOK + ["run", "--env", "all", "--only", "01-setup", "--work-dir", str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log

    rows = summary_rows(proc.stdout)
    assert set(rows) == {("staging", "01-setup"), ("production", "01-setup")}, log
    assert rows["staging", "01-setup"]["status"] == "ok", log
    failure = rows["production", "01-setup"]
    assert failure["status"] == "failed", log
    assert failure["details"].startswith("ParameterError: parameter 'aws_region': got 'moon-1'"), log

    runs = root / "build" / "runs"
    staging_nb, production_nb = runs / "staging" / "01-setup.ipynb", runs / "production" / "01-setup.ipynb"
    assert staging_nb.is_file() and production_nb.is_file()

    # staging ran to the end, in its own work directory, and its records are intact
    staging = load(staging_nb)
    assert failed_cells(staging) == [] and not staging["metadata"]["papermill"]["exception"]
    records = read_records(staging)
    assert records["setup_ok"] is True
    assert Path(records["tfvars_path"]) == work / "staging" / "terraform.tfvars"
    assert Path(records["tfvars_path"]).is_file()
    checks = {c["name"]: c for c in records["checks"]}
    assert {"Python", "Terraform", "AWS identity (STS)", "terraform.tfvars", "tfvars (Terraform)", "Region"} <= set(
        checks
    )
    assert checks["AWS identity (STS)"]["ok"] and "(emulator)" in checks["AWS identity (STS)"]["detail"]
    assert checks["Region"]["ok"] and checks["Region"]["detail"].startswith("us-east-1")

    # production stopped in its validation cell: the kept notebook says why, and nothing after it ran
    kept = load(production_nb)
    assert kept["metadata"]["papermill"]["exception"] is True
    [failed] = failed_cells(kept)
    error = next(o for o in kept["cells"][failed]["outputs"] if o["output_type"] == "error")
    assert error["ename"] == "ParameterError" and "'aws_region'" in error["evalue"] and "'moon-1'" in error["evalue"]
    assert read_records(kept) == {}
    assert not (work / "production" / "terraform.tfvars").exists()


# -- 2. an executed notebook runs again -----------------------------------------------------------------------
def test_an_executed_notebook_runs_again_as_the_input(target, tmp_path):
    setup = NOTEBOOKS["01-setup"]
    [first] = runner.run_environment(
        "staging", [setup], target.endpoint_url, tmp_path / "first", work_dir=tmp_path / "work"
    )
    assert first.status == "ok", first.error
    executed = load(first.output)
    # the same parameters: those the runner passed, as papermill recorded them
    parameters = executed["metadata"]["papermill"]["parameters"]
    assert parameters["aws_endpoint_url"] == target.endpoint_url
    assert parameters["work_dir"] == str(tmp_path / "work") and parameters["environment"] == "staging"

    again = tmp_path / "again.ipynb"
    papermill.execute_notebook(
        first.output, str(again), parameters=parameters, cwd=str(setup.parent), progress_bar=False, log_output=False
    )
    rerun = load(again)

    assert not rerun["metadata"]["papermill"]["exception"] and failed_cells(rerun) == []
    [parameters_cell], [injected] = tagged(rerun, "parameters"), tagged(rerun, "injected-parameters")
    assert injected == parameters_cell + 1
    assert len(rerun["cells"]) == len(executed["cells"]) == len(load(setup)["cells"]) + 1
    injected_source = "".join(rerun["cells"][injected]["source"])
    assert all(injected_source.count(f"\n{key} = ") == 1 for key in parameters), injected_source
    assert target.endpoint_url in injected_source
    # outputs are replaced too: each record appears as often as in the first run (once each)
    assert record_outputs(rerun) == record_outputs(executed)
    assert len(set(record_outputs(rerun))) == len(record_outputs(rerun))

    before, after = read_records(executed), read_records(rerun)
    assert after["setup_ok"] is True and before["setup_ok"] is True
    assert after["tfvars_path"] == before["tfvars_path"]
    # deterministic checks: same name, outcome and detail; the tfvars check now keeps the file the first made
    varying = {"terraform.tfvars", "AWS provider source", "state bucket notifications-tfstate"}
    assert [(c["name"], c["ok"]) for c in after["checks"]] == [(c["name"], c["ok"]) for c in before["checks"]]
    assert [c for c in after["checks"] if c["name"] not in varying] == [
        c for c in before["checks"] if c["name"] not in varying
    ]
    tfvars_before, tfvars_after = (
        {c["name"]: c["detail"] for c in r["checks"]}["terraform.tfvars"] for r in (before, after)
    )
    assert tfvars_before.startswith("created ") and tfvars_after.startswith(f"kept {before['tfvars_path']} ")


# -- 3. every parameter is validated first --------------------------------------------------------------------
AN_EXISTING_FILE = object()  # work_dir: a path that exists and is a file (made per test)

#: A bad value for every parameter any notebook declares (a new parameter needs one here, or a reason below).
BAD_VALUES = {
    "environment": "qa",
    "aws_region": "moon-1",
    "aws_endpoint_url": "ftp://nowhere",
    "work_dir": AN_EXISTING_FILE,
    "overwrite_tfvars": "yes",
    "tfvars": "/nonexistent/terraform.tfvars",
    "allow_destroy": "module.dynamodb.aws_dynamodb_table.notifications, not an address",
    "plan_sha256": "abc123",
    "apply": "yes",
    "confirm": "nope",
    "demo_out_of_band_table": "yes",
    "pricing": "moon-prices",
    "free_tier": "yes",
    "users": -1,
    "notifications_per_user_per_day": -1.0,
    "reads_per_day": "lots",
    "storage_gb": -0.5,
    "item_size_kb": 401.0,
    "read_consistency": "sometimes",
    "target_utilization": 1.5,
    "scans_per_day": -1,
    "months_without_ttl": 121,
    "cloudwatch_days": 0,
    "smoke_users": 0,
    "smoke_per_user": 1001,
    "ttl_items": 1,
    "metrics_hours": "3h",
    "destroy": "yes",
    "unlock_lock_id": "the lock",
}
#: What else a bad value needs to be bad: confirm only matters for apply=True in production.
WITH = {"confirm": {"environment": "production", "apply": True}}
#: Parameters that genuinely accept any value (none today); name → why.
ACCEPTS_ANYTHING: dict[str, str] = {}


def select_cases(every: bool = bool(os.environ.get("RUNBOOK_TEST_EVERY_PARAMETER"))) -> list[tuple[str, str]]:
    """(notebook, parameter) pairs to execute, one kernel each.

    Every pair is ~47 kernel starts; by default each parameter name is covered once: a parameter only one
    notebook declares in that notebook, a shared one in the notebook with the fewest cases so far (so every
    notebook gets at least one). ``RUNBOOK_TEST_EVERY_PARAMETER=1`` runs every pair.
    """
    pairs = [(stem, name) for stem, names in DECLARED.items() for name in names if name not in ACCEPTS_ANYTHING]
    if every:
        return pairs
    owners: dict[str, list[str]] = {}
    for stem, name in pairs:
        owners.setdefault(name, []).append(stem)
    chosen = [(stems[0], name) for name, stems in owners.items() if len(stems) == 1]
    load_ = Counter(stem for stem, _ in chosen)
    for name, stems in owners.items():
        if len(stems) > 1:
            stem = min(stems, key=lambda s: (load_[s], s))
            chosen.append((stem, name))
            load_[stem] += 1
    return sorted(chosen, key=pairs.index)


CASES = select_cases()


def test_every_parameter_has_a_bad_value_and_a_case():
    """Cheap guard of the matrix below: a new parameter or notebook cannot go untested silently."""
    declared = {name for names in DECLARED.values() for name in names}
    assert declared - set(ACCEPTS_ANYTHING) <= set(BAD_VALUES), "add a bad value (or a reason) for the new parameter"
    assert {name for _, name in CASES} == declared - set(ACCEPTS_ANYTHING)
    assert {stem for stem, _ in CASES} == set(NOTEBOOKS)
    assert all(set(WITH.get(name, {})) <= set(DECLARED[stem]) for stem, name in CASES)
    assert len(CASES) <= 30 or os.environ.get("RUNBOOK_TEST_EVERY_PARAMETER")  # one per parameter name


@pytest.mark.parametrize("stem, name", CASES, ids=[f"{stem[:2]}-{name}" for stem, name in CASES])
def test_a_bad_parameter_fails_first_before_any_aws_call(stem, name, tmp_path, counting_endpoint, monkeypatch):
    notebook = NOTEBOOKS[stem]
    bad = BAD_VALUES[name]
    if bad is AN_EXISTING_FILE:
        bad = str(tmp_path / "work-is-a-file")
        Path(bad).write_text("not a directory\n")
    # a call that slips past the validation lands on the counter, even one that ignores aws_endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL", counting_endpoint.url)
    extra = WITH.get(name, {})
    parameters = {
        **runner.environment_parameters(extra.get("environment", "staging")),
        "aws_endpoint_url": counting_endpoint.url,
        "work_dir": str(tmp_path / "work"),
        **extra,
        name: bad,
    }
    parameters = {key: value for key, value in parameters.items() if key in DECLARED[stem]}
    output = tmp_path / f"{stem}.ipynb"

    with pytest.raises(papermill.PapermillExecutionError) as raised:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=False,
        )
    error = raised.value
    assert error.ename in ("ParameterError", "ConfirmationError"), f"{error.ename}: {error.evalue}"
    assert name in error.evalue and repr(bad) in error.evalue, error.evalue

    nb = load(output)
    [injected] = tagged(nb, "injected-parameters")
    first_code = next(i for i in range(injected + 1, len(nb["cells"])) if nb["cells"][i]["cell_type"] == "code")
    assert failed_cells(nb) == [first_code]
    assert nb["cells"][first_code]["metadata"]["papermill"]["status"] == "failed"
    assert counting_endpoint.requests == [], f"AWS calls before the validation failed: {counting_endpoint.requests}"
