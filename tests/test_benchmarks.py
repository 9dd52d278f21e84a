"""The benchmark script runs and writes valid JSON (figures are not asserted: benchmarks are not timed tests)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from runbook import paths

pytestmark = pytest.mark.notebooks


def test_quick_benchmark_writes_the_documented_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--quick", "--only", "01-setup", "--only",
                           "05-cost-analysis", "--json", str(out)], cwd=paths.ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures["suite_seconds"]) == {"staging", "production", "all"}
    assert figures["notebooks"] == ["01-setup", "05-cost-analysis"]
    assert set(figures["per_notebook_seconds"]) == {"01-setup", "05-cost-analysis"}
    assert figures["plain_python_seconds"]["median"] > 0 and figures["overhead_ratio"] > 0
    assert figures["docs_build_seconds"]["median"] > 0
    assert {"10", "100", "200"} <= set(figures["discovery"]) and figures["discovery"]["10"]["median"] > 0
    assert figures["suite_seconds_terraform_unavailable"]["median"] > 0
    # without the provider 01 stops with the fix (Terraform is the only path) and what follows is skipped
    assert figures["terraform_unavailable_outcome"] == {"01-setup": "failed", "05-cost-analysis": "skipped"}
    assert set(figures["all_ratio"]) == {"to_staging", "to_slower_environment"}
    terraform = figures["terraform_seconds"]
    assert set(terraform) == {"commands", "total", "by_command"}
    assert terraform["total"] == pytest.approx(sum(terraform["by_command"].values()), abs=0.05)
    assert "overhead ratio" in proc.stdout and "Terraform in the staging suite" in proc.stdout
    # issue 18's figures: under --quick the bare/runbook pairs (two real applies each) are skipped, and the JSON
    # says so instead of inventing a ratio
    for key in ("bare", "suite_bare"):
        assert figures[f"{key}_ratio"] is None and "--quick" in figures[key]["skipped"]
        assert "not measured" in proc.stdout
    assert figures["lab_ready_seconds"]["median"] > 0 and figures["lab_ready_seconds"]["runs"] == 1
    assert figures["docs_seconds"] == figures["docs_build_seconds"]
    assert len(figures["load"]["loadavg"]) == 3 and figures["load"]["cpus"] >= 1


def test_pair_figures_are_medians_of_per_pair_ratios(tmp_path, monkeypatch):
    """``bare_pairs`` alternates the two sides and reports the median of the per-pair ratios with the raw seconds
    and each side's Terraform commands (the real commands are stubbed here: the --quick run skips them)."""
    spec = importlib.util.spec_from_file_location("runbook_benchmarks", paths.ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    calls, bare, runbook = [], iter([10.0, 20.0, 10.0]), iter([11.0, 30.0, 12.0])

    def fake_bare(base, import_cycle=False):
        calls.append(("bare", import_cycle))
        return next(bare), [{"command": "plan", "seconds": 5.0}, {"command": "apply", "seconds": 4.0}]

    def fake_runbook(base, only):
        calls.append(("runbook", tuple(only)))
        return next(runbook), [{"notebooks": {"01-setup": 2.0}}, {"command": "plan", "seconds": 5.0},
                               {"command": "plan", "seconds": 4.0}, {"command": "show", "seconds": 2.0}]

    monkeypatch.setattr(bench, "bare_run", fake_bare)
    monkeypatch.setattr(bench, "runbook_cli_run", fake_runbook)
    figures = bench.bare_pairs(tmp_path, 3, ["01-setup", "02-plan-and-apply"], import_cycle=False)
    assert calls == [("bare", False), ("runbook", ("01-setup", "02-plan-and-apply"))] * 3
    assert figures["pair_ratios"] == [1.1, 1.5, 1.2] and figures["ratio"]["median"] == 1.2
    assert figures["bare_seconds"]["raw"] == [10.0, 20.0, 10.0] and figures["runbook_seconds"]["median"] == 12.0
    last = figures["last_pair"]
    assert last["runbook_commands"]["plan"] == {"count": 2, "seconds": 9.0}
    assert last["runbook_terraform_seconds"] == 11.0 and last["runbook_outside_terraform_seconds"] == 1.0
    assert figures["terraform_ratios"] == [1.1, 0.55, 1.1], "each pair: the runbook's Terraform / the bare one"
    assert figures["outside_terraform_seconds"]["raw"] == [0.0, 19.0, 1.0]
    assert figures["outside_terraform_seconds"]["median"] == 1.0
