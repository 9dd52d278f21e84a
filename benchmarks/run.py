"""Measure the runbooks, the site and discovery on the embedded emulator; print a table, optionally write JSON.

    python benchmarks/run.py [--quick] [--json PATH] [--only NAME]...

Figures: median, min and max over repeated runs (``--quick``: one run each, fewer tables). Goals (2 cores):
staging suite ≤ 25 s, overhead ratio ≤ 1.5, --env all ≤ 1.3× one environment, docs ≤ 8 s, 200 tables ≤ 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook import paths, runner  # noqa: E402
from runbook.emulator import Emulator  # noqa: E402


def stats(samples: list[float]) -> dict:
    return {"median": round(statistics.median(samples), 3), "min": round(min(samples), 3),
            "max": round(max(samples), 3), "runs": len(samples)}


def timed(function, repeats: int) -> tuple[list[float], object]:
    samples, last = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        last = function()
        samples.append(time.perf_counter() - start)
    return samples, last


ONLY: list[str] = []


def suite(environments: list[str], output_dir: Path) -> runner.RunResult:
    result = runner.run(environments, ONLY, output_dir=output_dir, work_dir=output_dir / "work")
    if not result.ok:
        failed = [f"{r.environment}/{r.notebook}: {r.error}" for r in result.results if r.status != "ok"]
        raise SystemExit("the suite failed, nothing to measure: " + "; ".join(failed))
    return result


def terraform_breakdown(timings: Path, runs: int) -> dict:
    """Terraform's share of one run (averaged over ``runs``), from the command log the runbook writes
    (``RUNBOOK_TERRAFORM_TIMINGS``)."""
    entries = [json.loads(line) for line in timings.read_text().splitlines()] if timings.exists() else []
    by_command: dict[str, float] = {}
    for entry in entries:
        by_command[entry["command"]] = by_command.get(entry["command"], 0) + entry["seconds"] / runs
    return {"commands": len(entries) // runs, "total": round(sum(by_command.values()), 2),
            "by_command": {name: round(seconds, 2) for name, seconds in by_command.items()}}


def without_provider(out: Path) -> dict[str, str]:
    """A Terraform CLI config whose only provider source is an empty mirror: ``init`` cannot install
    hashicorp/aws, so 02 and 03 take the runbook's own Terraform-unavailable path (boto3 on the emulator)."""
    mirror = out / "empty-mirror"
    mirror.mkdir(parents=True, exist_ok=True)
    config = out / "no-provider.tfrc"
    config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n')
    return {"TF_CLI_CONFIG_FILE": str(config)}


def plain_python(environment: str, workdir: Path) -> float:  # noqa: C901
    """The same notebooks' code as plain scripts (nbconvert), one process each, in order, on one emulator."""
    from nbconvert import PythonExporter
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    scripts = []
    with Emulator() as emu:
        emu.reset()  # moto's state is per process: start from an empty account, as the suite does
        parameters = {**runner.environment_parameters(environment),
                      **runner.target_parameters(environment, emu.endpoint_url), "environment": environment,
                      "work_dir": str(workdir / "plain-work")}
        for notebook in runner.select_notebooks(ONLY):
            nb = load_notebook_node(str(notebook))
            declared = {k: v for k, v in parameters.items() if k in _declared(notebook)}
            source, _ = PythonExporter().from_notebook_node(parameterize_notebook(nb, declared))
            script = workdir / f"{notebook.stem}.py"
            script.write_text(source.replace("get_ipython()", "(lambda: None)()"))
            scripts.append(script)
        start = time.perf_counter()
        for script in scripts:
            proc = subprocess.run([sys.executable, str(script)], cwd=paths.NOTEBOOKS, capture_output=True,
                                  text=True, env={**__import__("os").environ, "MPLBACKEND": "Agg"})
            if proc.returncode:
                raise SystemExit(f"{script.name} failed as a plain script:\n{proc.stderr[-2000:]}")
        return time.perf_counter() - start


def _declared(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def docs_build(runs: Path) -> float:
    """``runbook docs`` from the executed staging notebooks (no re-execution), into a scratch site."""
    from runbook.docs import build

    start = time.perf_counter()
    if build(serve=False, site_dir=runs.parent / "site", runs_dir=runs / "staging") != 0:
        raise SystemExit("the docs build failed")
    return time.perf_counter() - start


@contextmanager
def emulator_process():
    """``runbook emulator`` in its own process, as notebooks meet it: the emulator runs in the runner's (or
    ``runbook lab``'s) process and discovery in the kernel's. Sharing one process would make the client's and
    the server's threads queue on one interpreter lock and measure that instead."""
    proc = subprocess.Popen([sys.executable, "-m", "runbook.cli", "emulator"], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        match = re.search(r"http://\S+", proc.stdout.readline())
        if not match:
            raise SystemExit("runbook emulator did not say where it listens")
        yield match.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def discovery(sizes: list[int], repeats: int) -> dict:
    from runbook.aws import Target
    from runbook.discovery import describe_tables, list_tables

    figures = {}
    with emulator_process() as endpoint_url:
        target = Target("us-east-1", endpoint_url)
        client = target.client("dynamodb")
        made = 0
        for size in sorted(sizes):
            for i in range(made, size):
                client.create_table(TableName=f"bench-{i:04d}", BillingMode="PAY_PER_REQUEST",
                                    KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
                                    AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}])
            made = size
            samples, _ = timed(lambda: describe_tables(target, list_tables(target)), repeats)
            figures[str(size)] = stats(samples)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each and small table counts")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="measure only these notebooks (as runbook run --only); the JSON names them")
    args = parser.parse_args()
    ONLY.extend(args.only)
    repeats = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as scratch:
        figures = measure(args, repeats, Path(scratch))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def measure(args, repeats: int, out: Path) -> dict:
    figures: dict = {"quick": args.quick, "notebooks": [nb.stem for nb in runner.select_notebooks(ONLY)]}

    timings = out / "terraform-timings.jsonl"
    with patch.dict(os.environ, RUNBOOK_TERRAFORM_TIMINGS=str(timings)):  # the kernels and Terraform inherit it
        staging, result = timed(lambda: suite(["staging"], out / "staging-runs"), repeats)
    figures["terraform_seconds"] = terraform_breakdown(timings, repeats)
    with patch.dict(os.environ, without_provider(out)):
        unavailable, _ = timed(lambda: suite(["staging"], out / "no-terraform-runs"), repeats)
    figures["suite_seconds_terraform_unavailable"] = stats(unavailable)
    production, _ = timed(lambda: suite(["production"], out / "production-runs"), repeats)
    both, _ = timed(lambda: suite(list(paths.ENVIRONMENTS), out / "all-runs"), repeats)
    figures["suite_seconds"] = {"staging": stats(staging), "production": stats(production), "all": stats(both)}
    figures["all_ratio"] = {"to_staging": round(statistics.median(both) / statistics.median(staging), 2),
                            "to_slower_environment": round(statistics.median(both) / max(
                                statistics.median(staging), statistics.median(production)), 2)}
    figures["per_notebook_seconds"] = {r.notebook: r.seconds for r in result.results}
    plain, _ = timed(lambda: plain_python("staging", out), repeats)
    figures["plain_python_seconds"] = stats(plain)
    figures["overhead_ratio"] = round(statistics.median(staging) / statistics.median(plain), 2)
    docs, _ = timed(lambda: docs_build(out / "staging-runs"), repeats)
    figures["docs_build_seconds"] = stats(docs)
    figures["discovery"] = discovery([10, 50] if args.quick else [10, 100, 200], repeats)
    if args.quick:  # keep the documented keys; say they were not measured rather than invent them
        figures["discovery"].update({"100": None, "200": None})
    return figures


def report(figures: dict) -> None:
    print(f"{'measure':<38}{'median s':>10}{'min s':>10}{'max s':>10}")
    rows = [(f"suite {k}", v) for k, v in figures["suite_seconds"].items()]
    rows += [("suite staging, Terraform unavailable", figures["suite_seconds_terraform_unavailable"])]
    rows += [("plain python (staging)", figures["plain_python_seconds"]), ("docs build", figures["docs_build_seconds"])]
    rows += [(f"discovery {k} tables", v) for k, v in figures["discovery"].items() if v]
    for name, value in rows:
        print(f"{name:<38}{value['median']:>10.2f}{value['min']:>10.2f}{value['max']:>10.2f}")
    print(f"overhead ratio (suite / plain python): {figures['overhead_ratio']}")
    print(f"--env all / one environment: {figures['all_ratio']['to_staging']} (staging), "
          f"{figures['all_ratio']['to_slower_environment']} (the slower one)")
    for name, seconds in figures["per_notebook_seconds"].items():
        print(f"  {name:<30}{seconds:>8.2f}")
    tf = figures["terraform_seconds"]
    print(f"Terraform in the staging suite: {tf['commands']} commands, {tf['total']} s — "
          + ", ".join(f"{k} {v}" for k, v in tf["by_command"].items()))


if __name__ == "__main__":
    raise SystemExit(main())
