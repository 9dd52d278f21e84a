"""The benchmark script runs and writes valid JSON (figures are not asserted: benchmarks are not timed tests)."""

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
    assert set(figures["all_ratio"]) == {"to_staging", "to_slower_environment"}
    terraform = figures["terraform_seconds"]
    assert set(terraform) == {"commands", "total", "by_command"}
    assert terraform["total"] == pytest.approx(sum(terraform["by_command"].values()), abs=0.05)
    assert "overhead ratio" in proc.stdout and "Terraform in the staging suite" in proc.stdout
