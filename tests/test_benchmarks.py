"""The benchmark script: its JSON and its report, and each of its measurements.

The contract (the keys, the ratios, what ``--quick`` leaves out and says so) is checked in a second on ``main()``
with every measurement replaced by a stand-in that leaves what the real one leaves (a result per notebook, the
Terraform command log); each real measurement then runs once, on the smallest input (marked: notebooks, Terraform,
JupyterLab). Figures are not asserted: benchmarks are not timed tests. ``python benchmarks/run.py`` by hand measures
everything, as before.
"""

import importlib.util
import json
import os
import sys
import time
from unittest.mock import patch

import pytest

from runbook import paths
from runbook.execution import runner

QUICK_NOTEBOOKS = ["01-setup", "05-cost-analysis"]


@pytest.fixture
def bench():
    """``benchmarks/run.py`` as a module (a fresh one per test: ``ONLY`` is module state)."""
    spec = importlib.util.spec_from_file_location("runbook_benchmarks", paths.ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_writes_the_documented_json(bench, tmp_path, monkeypatch, capsys):
    calls = []

    def suite(environments, output_dir, must_pass=True):
        unavailable = os.environ.get("TF_CLI_CONFIG_FILE", "").endswith("no-provider.tfrc")
        calls.append(("suite", tuple(environments), unavailable))
        if os.environ.get("RUNBOOK_TERRAFORM_TIMINGS"):  # the runbook's Terraform appends one line per command
            with open(os.environ["RUNBOOK_TERRAFORM_TIMINGS"], "a") as log:
                log.writelines(
                    json.dumps({"command": c, "seconds": s}) + "\n" for c, s in (("init", 1.5), ("plan", 2.25))
                )
        statuses = ["failed"] + ["skipped"] * (len(bench.ONLY) - 1) if unavailable else ["ok"] * len(bench.ONLY)
        time.sleep(0.01)
        return runner.RunResult(
            [
                runner.NotebookResult(environment, name, status, seconds=1.0)
                for environment in environments
                for name, status in zip(bench.ONLY, statuses)
            ]
        )

    def stand_in(name, value):
        def measured(*args):
            calls.append((name, *args[:1]))
            time.sleep(0.01)
            return value(*args)

        return measured

    monkeypatch.setattr(bench, "suite", suite)
    monkeypatch.setattr(bench, "plain_python", stand_in("plain", lambda *args: None))
    monkeypatch.setattr(bench, "docs_build", stand_in("docs", lambda runs: None))
    monkeypatch.setattr(
        bench,
        "discovery",
        stand_in("discovery", lambda sizes, repeats: {str(size): bench.stats([0.01] * repeats) for size in sizes}),
    )
    monkeypatch.setattr(bench, "lab_ready", stand_in("lab", lambda out, repeats: [0.5] * repeats))
    monkeypatch.setattr(bench, "bare_pairs", lambda *args: pytest.fail("--quick measures no bare pairs"))
    out = tmp_path / "bench.json"
    monkeypatch.setattr(
        sys, "argv", ["run.py", "--quick", *[a for n in QUICK_NOTEBOOKS for a in ("--only", n)], "--json", str(out)]
    )
    assert bench.main() == 0
    stdout = capsys.readouterr().out
    suites = [call[1:] for call in calls if call[0] == "suite"]
    assert suites == [
        (("staging",), False),
        (("staging",), True),
        (("production",), False),
        (("staging", "production"), False),
    ], "one run each, the second without the provider"
    assert ("discovery", [10, 50]) in calls, "--quick: small table counts"

    figures = json.loads(out.read_text())
    assert figures["quick"] is True
    assert set(figures["suite_seconds"]) == {"staging", "production", "all"}
    assert all(figures["suite_seconds"][name]["runs"] == 1 for name in figures["suite_seconds"])
    assert figures["notebooks"] == QUICK_NOTEBOOKS
    assert figures["per_notebook_seconds"] == {"01-setup": 1.0, "05-cost-analysis": 1.0}
    assert figures["plain_python_seconds"]["median"] > 0 and figures["overhead_ratio"] > 0
    assert figures["docs_build_seconds"]["median"] > 0
    assert {"10", "100", "200"} <= set(figures["discovery"]) and figures["discovery"]["10"]["median"] > 0
    assert figures["discovery"]["100"] is None, "not measured under --quick, and said so"
    assert figures["suite_seconds_terraform_unavailable"]["median"] > 0
    assert figures["terraform_unavailable_outcome"] == {"01-setup": "failed", "05-cost-analysis": "skipped"}
    assert set(figures["all_ratio"]) == {"to_staging", "to_slower_environment"}
    assert figures["terraform_seconds"] == {"commands": 2, "total": 3.75, "by_command": {"init": 1.5, "plan": 2.25}}
    assert "overhead ratio" in stdout and "Terraform in the staging suite: 2 commands, 3.75 s" in stdout
    # issue 18's figures: under --quick the bare/runbook pairs (two real applies each) are skipped, and the JSON
    # says so instead of inventing a ratio
    for key in ("bare", "suite_bare"):
        assert figures[f"{key}_ratio"] is None and "--quick" in figures[key]["skipped"]
    assert "not measured" in stdout
    assert figures["lab_ready_seconds"]["median"] > 0 and figures["lab_ready_seconds"]["runs"] == 1
    assert figures["docs_seconds"] == figures["docs_build_seconds"]
    assert len(figures["load"]["loadavg"]) == 3 and figures["load"]["cpus"] >= 1
    assert "load_after" in figures


@pytest.mark.notebooks
def test_each_measurement_runs_for_real_on_the_smallest_input(bench, tmp_path):
    """What the stand-ins above stand for, each once for real: the suite (01 alone) with Terraform's command log,
    the site built from it, the suite without the provider (01 stops, what follows is skipped), the plain-Python
    baseline, discovery on 10 tables, ``runbook lab`` until ready."""
    bench.ONLY.append("01-setup")
    timings = tmp_path / "terraform-timings.jsonl"
    with patch.dict(os.environ, RUNBOOK_TERRAFORM_TIMINGS=str(timings)):
        result = bench.suite(["staging"], tmp_path / "staging-runs")
    assert [(r.notebook, r.status) for r in result.results] == [("01-setup", "ok")]
    terraform = bench.terraform_breakdown(timings, 1)
    assert terraform["commands"] >= 2 and {"init", "plan"} <= set(terraform["by_command"]), terraform
    assert terraform["total"] == pytest.approx(sum(terraform["by_command"].values()), abs=0.05)
    assert bench.docs_build(tmp_path / "staging-runs") > 0
    assert (tmp_path / "site" / "index.html").exists()

    bench.ONLY.append("05-cost-analysis")
    with patch.dict(os.environ, bench.without_provider(tmp_path)):
        stopped = bench.suite(["staging"], tmp_path / "no-terraform-runs", must_pass=False)
    # Terraform is the only path (issue 12): without the provider 01 stops with the fix, the rest is skipped
    assert {r.notebook: r.status for r in stopped.results} == {"01-setup": "failed", "05-cost-analysis": "skipped"}
    bench.ONLY.remove("05-cost-analysis")

    assert bench.plain_python("staging", tmp_path) > 0
    discovery = bench.discovery([10], 1)
    assert set(discovery) == {"10"} and discovery["10"]["median"] > 0 and discovery["10"]["runs"] == 1
    [ready] = bench.lab_ready(tmp_path, 1)
    assert ready > 0


def test_pair_figures_are_medians_of_per_pair_ratios(bench, tmp_path, monkeypatch):
    """``bare_pairs`` alternates the two sides and reports the median of the per-pair ratios with the raw seconds
    and each side's Terraform commands (the real commands are stubbed here: the --quick run skips them)."""
    calls, bare, runbook = [], iter([10.0, 20.0, 10.0]), iter([11.0, 30.0, 12.0])

    def fake_bare(base, import_cycle=False, as_typed=False):
        calls.append(("bare", import_cycle))
        return next(bare), [{"command": "plan", "seconds": 5.0}, {"command": "apply", "seconds": 4.0}]

    def fake_runbook(base, only):
        calls.append(("runbook", tuple(only)))
        return next(runbook), [
            {"notebooks": {"01-setup": 2.0}},
            {"command": "plan", "seconds": 5.0},
            {"command": "plan", "seconds": 4.0},
            {"command": "show", "seconds": 2.0},
        ]

    monkeypatch.setattr(bench, "bare_run", fake_bare)
    monkeypatch.setattr(bench, "runbook_cli_run", fake_runbook)
    figures = bench.bare_pairs(tmp_path, 3, ["01-setup", "02-plan-and-apply"], import_cycle=False)
    assert calls == [("bare", False), ("runbook", ("01-setup", "02-plan-and-apply"))] * 3
    assert figures["pair_ratios"] == [1.1, 1.5, 1.2] and figures["ratio"]["median"] == 1.2
    assert figures["bare_environment"] == "the runbook's"
    assert figures["bare_seconds"]["raw"] == [10.0, 20.0, 10.0] and figures["runbook_seconds"]["median"] == 12.0
    last = figures["last_pair"]
    assert last["runbook_commands"]["plan"] == {"count": 2, "seconds": 9.0}
    assert last["runbook_terraform_seconds"] == 11.0 and last["runbook_outside_terraform_seconds"] == 1.0
    assert figures["terraform_ratios"] == [1.1, 0.55, 1.1], "each pair: the runbook's Terraform / the bare one"
    assert figures["outside_terraform_seconds"]["raw"] == [0.0, 19.0, 1.0]
    assert figures["outside_terraform_seconds"]["median"] == 1.0


def test_bare_commands_as_typed_run_without_the_runbooks_gogc(bench, monkeypatch):
    """Like with like by default (the runbook's GOGC on both sides); ``as_typed``: Terraform's own default, as an
    operator's shell runs the guide's commands, and a GOGC the operator set is theirs either way."""
    from runbook.terraform.binary import TERRAFORM_GOGC

    monkeypatch.delenv("GOGC", raising=False)
    assert bench._bare_environment()["GOGC"] == TERRAFORM_GOGC
    assert "GOGC" not in bench._bare_environment(as_typed=True)
    monkeypatch.setenv("GOGC", "150")
    assert bench._bare_environment(as_typed=True)["GOGC"] == "150"
