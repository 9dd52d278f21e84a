"""Measure the runbooks, the site and discovery on the embedded emulator; print a table, optionally write JSON.

    python benchmarks/run.py [--quick] [--json PATH] [--only NAME]... [--pairs N] [--figures NAME,...]

Figures: median, min and max over repeated runs (``--quick``: one run each, fewer tables, no bare pairs).
Goals (2 cores): ``bare_ratio`` ≤ 1.10 (``runbook run --only 01-setup --only 02-plan-and-apply`` against the
guide's own commands run bare with Terraform), ``suite_bare_ratio`` ≤ 1.10 (the staging suite against the bare
Terraform commands it runs, 03's import cycle included), ``runbook lab`` ready ≤ 4 s, docs ≤ 8 s, overhead ratio
≤ 1.5, --env all ≤ 1.3× one environment, 200 tables ≤ 3 s.

The bare baseline and ``runbook run`` alternate in pairs (bare, runbook, bare, runbook …), each on a fresh
emulator process and a fresh work directory; a ratio is the median of the per-pair ratios, so a machine that is
busier for one pair than the next moves both sides of that pair. Both sides keep the state in the S3 backend, as
the committed roots require: the bare side first runs docs/team.md's once-per-account bootstrap of the state bucket
(``infrastructure/bootstrap`` init + apply), which a fresh emulator needs as much as the runbook's 01 does, then
``init -backend-config=backend.hcl``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
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

from runbook import paths  # noqa: E402
from runbook.aws.emulator import Emulator  # noqa: E402
from runbook.aws.target import DUMMY_CREDENTIALS  # noqa: E402
from runbook.execution import runner  # noqa: E402

#: What ``--figures`` can select; the default measures all of them.
FIGURES = ("suite", "discovery", "bare", "suite-bare", "lab", "docs")


def stats(samples: list[float]) -> dict:
    return {
        "median": round(statistics.median(samples), 3),
        "min": round(min(samples), 3),
        "max": round(max(samples), 3),
        "runs": len(samples),
    }


def timed(function, repeats: int) -> tuple[list[float], object]:
    samples, last = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        last = function()
        samples.append(time.perf_counter() - start)
    return samples, last


ONLY: list[str] = []


def suite(environments: list[str], output_dir: Path, must_pass: bool = True) -> runner.RunResult:
    result = runner.run(environments, ONLY, output_dir=output_dir, work_dir=output_dir / "work")
    if must_pass and not result.ok:
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
    return {
        "commands": len(entries) // runs,
        "total": round(sum(by_command.values()), 2),
        "by_command": {name: round(seconds, 2) for name, seconds in by_command.items()},
    }


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
        parameters = {
            **runner.environment_parameters(environment),
            **runner.target_parameters(environment, emu.endpoint_url),
            "environment": environment,
            "work_dir": str(workdir / "plain-work"),
        }
        for notebook in runner.select_notebooks(ONLY):
            nb = load_notebook_node(str(notebook))
            declared = {k: v for k, v in parameters.items() if k in _declared(notebook)}
            source, _ = PythonExporter().from_notebook_node(parameterize_notebook(nb, declared))
            script = workdir / f"{notebook.stem}.py"
            script.write_text(source.replace("get_ipython()", "(lambda: None)()"))
            scripts.append(script)
        start = time.perf_counter()
        for script in scripts:
            proc = subprocess.run(
                [sys.executable, str(script)],
                cwd=paths.NOTEBOOKS,
                capture_output=True,
                text=True,
                env={**__import__("os").environ, "MPLBACKEND": "Agg"},
            )
            if proc.returncode:
                raise SystemExit(f"{script.name} failed as a plain script:\n{proc.stderr[-2000:]}")
        return time.perf_counter() - start


def _declared(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def docs_build(runs: Path) -> float:
    """``runbook docs`` from the executed staging notebooks (no re-execution), into a scratch site."""
    from runbook.publish.docs import build

    start = time.perf_counter()
    if build(serve=False, site_dir=runs.parent / "site", runs_dir=runs / "staging") != 0:
        raise SystemExit("the docs build failed")
    return time.perf_counter() - start


@contextmanager
def emulator_process():
    """``runbook emulator`` in its own process, as notebooks meet it: the emulator runs in the runner's (or
    ``runbook lab``'s) process and discovery in the kernel's. Sharing one process would make the client's and
    the server's threads queue on one interpreter lock and measure that instead."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "runbook.cli", "emulator"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        match = re.search(r"http://\S+", proc.stdout.readline())
        if not match:
            raise SystemExit("runbook emulator did not say where it listens")
        yield match.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def discovery(sizes: list[int], repeats: int) -> dict:
    from runbook.aws.discovery import describe_tables, list_tables
    from runbook.aws.target import Target

    figures = {}
    with emulator_process() as endpoint_url:
        target = Target("us-east-1", endpoint_url)
        client = target.client("dynamodb")
        made = 0
        for size in sorted(sizes):
            for i in range(made, size):
                client.create_table(
                    TableName=f"bench-{i:04d}",
                    BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
                )
            made = size
            samples, _ = timed(lambda: describe_tables(target, list_tables(target)), repeats)
            figures[str(size)] = stats(samples)
    return figures


# --- the bare baseline: the guide's own commands, run directly with Terraform -------------------------------

#: The configuration guide's workflow (its "Terraform Commands" section), as an operator types it in
#: ``infrastructure/<env>`` after ``cp terraform.tfvars.example terraform.tfvars`` and ``cp backend.hcl.example
#: backend.hcl`` (the committed roots keep their state in the S3 backend: docs/team.md).
BARE_WORKFLOW = (
    ("init", "-input=false", "-backend-config=backend.hcl"),
    ("fmt", "-check", "-recursive"),
    ("validate",),
    ("plan", "-input=false", "-out=tfplan"),
    ("apply", "-input=false", "tfplan"),
    ("output", "-json"),
)
TABLE_ADDRESS = "module.dynamodb.aws_dynamodb_table.notifications"


def _bare_tree(base: Path, environment: str, endpoint_url: str, state_key: str = "") -> Path:
    """A copy of the committed configuration with the emulator override, the example as terraform.tfvars (region
    as the run's, the AMI swapped for one the emulator knows) and a ``backend.hcl`` for the emulator's state
    bucket (``state_key``, default the environment's): the same inputs the runbook's 01 makes."""
    from runbook.aws.target import Target
    from runbook.steps.preflight import emulator_ami
    from runbook.terraform import backend
    from runbook.terraform.workspace import OVERRIDE_FILE, _is_local_artifact, override_text

    tree = base / "infrastructure"
    shutil.copytree(
        paths.INFRASTRUCTURE,
        tree,
        ignore=lambda d, names: [n for n in names if n == ".terraform" or _is_local_artifact(Path(d) / n)],
    )
    root = tree / environment
    (root / OVERRIDE_FILE).write_text(override_text(endpoint_url))
    example = (root / "terraform.tfvars.example").read_text()
    text = re.sub(r'(?m)^(\s*aws_region\s*=\s*)"[^"]*"', r'\1"us-east-1"', example)
    text, _ = emulator_ami(Target("us-east-1", endpoint_url), text)
    (root / "terraform.tfvars").write_text(text)
    # the generated override, and the tfvars once the emulator's AMI replaced the example's placeholder, are not in
    # fmt's canonical layout (the runbook's fmt check leaves the override out); an operator's own files would be:
    # format them here, untimed, so the guide's ``fmt -check -recursive`` passes as it does for them
    subprocess.run(
        ["terraform", "fmt", OVERRIDE_FILE, "terraform.tfvars"],
        cwd=root,
        env=_bare_environment(),
        capture_output=True,
        check=True,
    )
    key = state_key or backend.default_key(environment)
    (root / "backend.hcl").write_text(backend.generated_text(backend.EMULATOR_BUCKET, key, "us-east-1", endpoint_url))
    return root


def _bare_bootstrap(tree: Path, endpoint_url: str, env: dict, log: list) -> float:
    """docs/team.md's once-per-account step, on the fresh emulator: ``infrastructure/bootstrap`` init + apply
    creates the state bucket (what the runbook's 01 does on an emulator). Returns its Terraform seconds."""
    from runbook.terraform import backend
    from runbook.terraform import bootstrap as bucket_bootstrap
    from runbook.terraform.workspace import OVERRIDE_FILE, override_text

    root = tree / bucket_bootstrap.BOOTSTRAP_DIR
    (root / OVERRIDE_FILE).write_text(override_text(endpoint_url))
    seconds = 0.0
    for args in (
        ("init", "-input=false"),
        (
            "apply",
            "-input=false",
            "-auto-approve",
            f"-var=bucket_name={backend.EMULATOR_BUCKET}",
            "-var=region=us-east-1",
            "-var=require_tls=false",
        ),
    ):  # plain HTTP emulator, as the runbook
        start = time.perf_counter()
        _terraform(root, args, env, log)
        seconds += time.perf_counter() - start
    return seconds


def _bare_environment(as_typed: bool = False) -> dict[str, str]:
    """What the runbook gives Terraform against an emulator: the same CLI config (provider mirror, plugin cache),
    region and dummy credentials (``runbook.terraform.invocation.TerraformRunner.environment``).

    ``as_typed``: without the runbook's ``GOGC`` (``runbook.terraform.binary.TERRAFORM_GOGC``), as Terraform runs
    for an operator who types the guide's commands (a ``GOGC`` of your own environment is kept either way)."""
    from runbook.terraform.binary import base_environment

    env = base_environment()
    if as_typed and "GOGC" not in os.environ:
        del env["GOGC"]
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = "us-east-1"
    for name, value in DUMMY_CREDENTIALS.items():
        env.setdefault(name, value)
    env.pop("AWS_ENDPOINT_URL", None)
    return env


def _terraform(root: Path, args: tuple[str, ...], env: dict, log: list) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    proc = subprocess.run(["terraform", *args], cwd=root, env=env, capture_output=True, text=True)
    log.append({"command": args[0], "seconds": round(time.perf_counter() - start, 3)})
    if proc.returncode:
        raise SystemExit(f"bare terraform {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc


def bare_run(
    base: Path, environment: str = "staging", import_cycle: bool = False, as_typed: bool = False
) -> tuple[float, list]:
    """The guide's workflow run bare on a fresh emulator process; with ``import_cycle``, then 03's demo: a table
    made out of band, an ``import {}`` block, and init/plan/apply on a scratch copy with its own state.
    ``as_typed``: in the environment an operator's shell gives Terraform (:func:`_bare_environment`).

    Timed: the Terraform commands only (what an operator waits for); the copy, the tfvars and the out-of-band
    table are set-up. Returns the seconds and each command's time.
    """
    log: list = []
    env = _bare_environment(as_typed)
    with emulator_process() as endpoint_url:
        root = _bare_tree(base / "guide", environment, endpoint_url)
        seconds = _bare_bootstrap(root.parent, endpoint_url, env, log)
        for args in BARE_WORKFLOW:
            start = time.perf_counter()
            proc = _terraform(root, args, env, log)
            seconds += time.perf_counter() - start
        if import_cycle:
            from runbook.aws.target import Target
            from runbook.terraform import backend

            table = json.loads(proc.stdout)["dynamodb_notifications_table_name"]["value"]
            name = f"{table}-import-demo"
            client = Target("us-east-1", endpoint_url).client("dynamodb")
            described = client.describe_table(TableName=table)["Table"]
            keys = {k["AttributeName"] for k in described["KeySchema"]}
            client.create_table(
                TableName=name,
                KeySchema=described["KeySchema"],
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[a for a in described["AttributeDefinitions"] if a["AttributeName"] in keys],
            )
            scratch = _bare_tree(
                base / "import-demo", environment, endpoint_url, backend.default_key(environment, "import-demo")
            )
            (scratch / "runbook_import.tf").write_text(f'import {{\n  to = {TABLE_ADDRESS}\n  id = "{name}"\n}}\n')
            for args in (
                ("init", "-input=false", "-backend-config=backend.hcl"),
                (
                    "plan",
                    "-input=false",
                    "-out=tfplan",
                    f"-var=dynamodb_notifications_table_name={name}",
                    f"-target={TABLE_ADDRESS}",
                ),
                ("apply", "-input=false", "tfplan"),
            ):
                start = time.perf_counter()
                _terraform(scratch, args, env, log)
                seconds += time.perf_counter() - start
    return seconds, log


def runbook_cli_run(base: Path, only: list[str], checkout: Path | None = None) -> tuple[float, list]:
    """``runbook run`` (staging, the embedded emulator it starts itself) as an operator types it, in its own
    process, on a fresh work and output directory; returns the wall seconds and its Terraform command log.

    ``checkout``: run the package of another checkout instead (``PYTHONPATH``, inherited by the kernels), with
    this environment's packages: how a proposed change is measured against the current one in the same pairs.
    """
    timings = base / "terraform-timings.jsonl"
    command = [
        sys.executable,
        "-m",
        "runbook.cli",
        "run",
        "--output-dir",
        str(base / "runs"),
        "--work-dir",
        str(base / "work"),
    ] + [arg for name in only for arg in ("--only", name)]
    env = {**os.environ, "RUNBOOK_TERRAFORM_TIMINGS": str(timings)}
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=checkout or ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"runbook run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    log = [json.loads(line) for line in timings.read_text().splitlines()] if timings.exists() else []
    notebooks = dict(re.findall(r"^\s*\S+\s+(\d\d-[\w-]+)\s+ok\s+([\d.]+)s", proc.stderr, re.M))
    return seconds, [{"notebooks": {k: float(v) for k, v in notebooks.items()}}] + log


def _commands(log: list) -> dict[str, dict]:
    """``{command: {"count", "seconds"}}`` of a Terraform command log."""
    out: dict[str, dict] = {}
    for entry in log:
        if "command" in entry:
            item = out.setdefault(entry["command"], {"count": 0, "seconds": 0.0})
            item["count"] += 1
            item["seconds"] = round(item["seconds"] + entry["seconds"], 2)
    return out


def bare_pairs(
    out: Path,
    pairs: int,
    only: list[str],
    import_cycle: bool,
    candidate: Path | None = None,
    bare_as_typed: bool = False,
) -> dict:
    """Alternate the bare commands and ``runbook run``; the ratio is the median of the per-pair ratios.

    With ``candidate`` (another checkout), each pair also runs that checkout's ``runbook run`` (the order of the
    two runbook sides alternates from pair to pair), reported under ``candidate``. ``bare_as_typed``: the bare
    commands run in an operator's environment, not the runbook's (:func:`_bare_environment`).
    """
    bare, runbook, last_bare, last_runbook, runbook_logs = [], [], [], [], []
    other, last_other, other_logs = [], [], []
    for index in range(pairs):
        b, last_bare = bare_run(out / f"bare-{index}", import_cycle=import_cycle, as_typed=bare_as_typed)
        sides = ["runbook", "candidate"] if candidate else ["runbook"]
        for side in sides if index % 2 == 0 else reversed(sides):
            if side == "runbook":
                r, last_runbook = runbook_cli_run(out / f"runbook-{index}", only)
            else:
                c, last_other = runbook_cli_run(out / f"candidate-{index}", only, candidate)
        for name in ("bare", "runbook", "candidate"):
            shutil.rmtree(out / f"{name}-{index}", ignore_errors=True)
        bare.append(b)
        runbook.append(r)
        runbook_logs.append(last_runbook)
        if candidate:
            other.append(c)
            other_logs.append(last_other)
    figures = _pair_figures(bare, runbook, runbook_logs, last_bare, only)
    figures["bare_environment"] = "as typed" if bare_as_typed else "the runbook's"
    if candidate:
        figures["candidate"] = {"checkout": str(candidate), **_pair_figures(bare, other, other_logs, last_bare, only)}
    return figures


def _terraform_seconds(log: list) -> float:
    return sum(e["seconds"] for e in log if "command" in e)


def _pair_figures(bare, runbook, runbook_logs, last_bare, only) -> dict:
    """The per-pair ratios and, less moved by a noisy machine than they are, the two parts of each runbook run:
    its Terraform against the bare Terraform, and its seconds outside Terraform."""
    ratios = [r / b for r, b in zip(runbook, bare)]
    terraform = [_terraform_seconds(log) for log in runbook_logs]
    outside = [r - t for r, t in zip(runbook, terraform)]
    last_runbook = runbook_logs[-1] if runbook_logs else []
    return {
        "ratio": stats(ratios),
        "bare_seconds": {**stats(bare), "raw": [round(x, 2) for x in bare]},
        "runbook_seconds": {**stats(runbook), "raw": [round(x, 2) for x in runbook]},
        "pair_ratios": [round(x, 3) for x in ratios],
        "terraform_ratios": [round(t / b, 3) for t, b in zip(terraform, bare)],
        "outside_terraform_seconds": {**stats(outside), "raw": [round(x, 2) for x in outside]},
        "runbook_notebooks": " ".join(only) or "all",
        "last_pair": {
            "bare_commands": _commands(last_bare),
            "runbook_commands": _commands(last_runbook),
            "runbook_terraform_seconds": round(terraform[-1], 2) if terraform else 0.0,
            "runbook_notebook_seconds": last_runbook[0]["notebooks"] if last_runbook else {},
            "runbook_outside_terraform_seconds": round(outside[-1], 2) if outside else 0.0,
        },
    }


def lab_ready(out: Path, repeats: int) -> list[float]:
    """``runbook lab`` until both its URLs are printed (then SIGINT, and wait for it to stop)."""
    import queue
    import threading

    prefixes = {"AWS emulator:", "JupyterLab:"}
    samples = []
    for index in range(repeats):
        lab_dir = out / f"lab-{index}"
        env = {**os.environ, "RUNBOOK_LAB_DIR": str(lab_dir), "PYTHONUNBUFFERED": "1"}
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "runbook.cli", "lab"],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        lines: queue.Queue = queue.Queue()
        reader = threading.Thread(
            target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)], daemon=True
        )
        reader.start()
        seen, text = set(), []
        try:
            while seen != prefixes:
                try:
                    line = lines.get(timeout=max(0.1, 120 - (time.perf_counter() - start)))
                except queue.Empty:
                    raise SystemExit("runbook lab was not ready within 120 s:\n" + "".join(text[-40:])) from None
                if line is None:
                    raise SystemExit(f"runbook lab exited ({proc.wait()}) before it was ready:\n" + "".join(text[-40:]))
                text.append(line)
                seen |= {prefix for prefix in prefixes if line.startswith(prefix)}
            samples.append(time.perf_counter() - start)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(timeout=10)
            shutil.rmtree(lab_dir, ignore_errors=True)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each, small table counts, no bare pairs")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="measure only these notebooks (as runbook run --only); the JSON names them",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        metavar="N",
        help="alternating bare/runbook pairs for bare_ratio and suite_bare_ratio (default 3)",
    )
    parser.add_argument(
        "--candidate",
        type=Path,
        metavar="CHECKOUT",
        help="also run this checkout's runbook in every bare pair (a proposed change, measured "
        "against the current one under the same load)",
    )
    parser.add_argument(
        "--figures",
        default=",".join(FIGURES),
        metavar="NAME,...",
        help=f"what to measure, of {', '.join(FIGURES)} (default: all)",
    )
    args = parser.parse_args()
    ONLY.extend(args.only)
    args.figures = [name.strip() for name in args.figures.split(",") if name.strip()]
    unknown = set(args.figures) - set(FIGURES)
    if unknown:
        parser.error(f"--figures: unknown {', '.join(sorted(unknown))} (one of {', '.join(FIGURES)})")
    repeats = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as scratch:
        figures = measure(args, repeats, Path(scratch))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def measure(args, repeats: int, out: Path) -> dict:
    figures: dict = {
        "quick": args.quick,
        "notebooks": [nb.stem for nb in runner.select_notebooks(ONLY)],
        "load": _load(),
    }
    wanted = set(args.figures)
    staging = None
    if "suite" in wanted:
        timings = out / "terraform-timings.jsonl"
        with patch.dict(os.environ, RUNBOOK_TERRAFORM_TIMINGS=str(timings)):  # the kernels and Terraform inherit it
            staging, result = timed(lambda: suite(["staging"], out / "staging-runs"), repeats)
        figures["terraform_seconds"] = terraform_breakdown(timings, repeats)
        # Terraform is the only path (issue 12): without the provider 01 stops with the fix, the rest is skipped;
        # this measures how long the runbook takes to say so
        with patch.dict(os.environ, without_provider(out)):
            unavailable, stopped = timed(
                lambda: suite(["staging"], out / "no-terraform-runs", must_pass=False), repeats
            )
        figures["suite_seconds_terraform_unavailable"] = stats(unavailable)
        figures["terraform_unavailable_outcome"] = {r.notebook: r.status for r in stopped.results}
        production, _ = timed(lambda: suite(["production"], out / "production-runs"), repeats)
        both, _ = timed(lambda: suite(list(paths.ENVIRONMENTS), out / "all-runs"), repeats)
        figures["suite_seconds"] = {"staging": stats(staging), "production": stats(production), "all": stats(both)}
        figures["all_ratio"] = {
            "to_staging": round(statistics.median(both) / statistics.median(staging), 2),
            "to_slower_environment": round(
                statistics.median(both) / max(statistics.median(staging), statistics.median(production)), 2
            ),
        }
        figures["per_notebook_seconds"] = {r.notebook: r.seconds for r in result.results}
        plain, _ = timed(lambda: plain_python("staging", out), repeats)
        figures["plain_python_seconds"] = stats(plain)
        figures["overhead_ratio"] = round(statistics.median(staging) / statistics.median(plain), 2)
    if "docs" in wanted:
        if staging is None:  # the docs are built from executed notebooks: execute them once
            suite(["staging"], out / "staging-runs")
        docs, _ = timed(lambda: docs_build(out / "staging-runs"), repeats)
        figures["docs_build_seconds"] = figures["docs_seconds"] = stats(docs)
    if "discovery" in wanted:
        figures["discovery"] = discovery([10, 50] if args.quick else [10, 100, 200], repeats)
        if args.quick:  # keep the documented keys; say they were not measured rather than invent them
            figures["discovery"].update({"100": None, "200": None})
    if "lab" in wanted:
        figures["lab_ready_seconds"] = stats(lab_ready(out, repeats))
    for name, key, only, import_cycle in (
        ("bare", "bare", ["01-setup", "02-plan-and-apply"], False),
        ("suite-bare", "suite_bare", [], True),
    ):
        if name not in wanted:
            continue
        if args.quick or args.pairs < 1:
            figures[f"{key}_ratio"] = None
            figures[key] = {
                "skipped": "--quick: no bare/runbook pairs (each pair applies twice for real; "
                "run without --quick to measure them)"
            }
            continue
        figures[key] = bare_pairs(out / key, args.pairs, only, import_cycle, args.candidate)
        figures[f"{key}_ratio"] = figures[key]["ratio"]["median"]
    figures["load_after"] = _load()
    return figures


def _load() -> dict:
    """How busy the machine was (``os.getloadavg``, cores): the figures are only comparable at similar load."""
    one, five, fifteen = os.getloadavg()
    return {"loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)], "cpus": os.cpu_count()}


def report(figures: dict) -> None:
    print(
        f"load average {figures['load']['loadavg']} on {figures['load']['cpus']} cores "
        f"(after: {figures['load_after']['loadavg']})"
    )
    print(f"{'measure':<38}{'median s':>10}{'min s':>10}{'max s':>10}")
    rows = [(f"suite {k}", v) for k, v in figures.get("suite_seconds", {}).items()]
    if "suite_seconds_terraform_unavailable" in figures:
        rows += [
            ("suite staging, no provider (01 stops)", figures["suite_seconds_terraform_unavailable"]),
            ("plain python (staging)", figures["plain_python_seconds"]),
        ]
    if "docs_seconds" in figures:
        rows += [("docs build", figures["docs_seconds"])]
    if "lab_ready_seconds" in figures:
        rows += [("runbook lab ready", figures["lab_ready_seconds"])]
    for key, label in (("bare", "01+02"), ("suite_bare", "suite")):
        if figures.get(f"{key}_ratio") is not None:
            rows += [
                (f"{label}: bare Terraform", figures[key]["bare_seconds"]),
                (f"{label}: runbook run", figures[key]["runbook_seconds"]),
            ]
    rows += [(f"discovery {k} tables", v) for k, v in figures.get("discovery", {}).items() if v]
    for name, value in rows:
        print(f"{name:<38}{value['median']:>10.2f}{value['min']:>10.2f}{value['max']:>10.2f}")
    for key, label in (
        ("bare", "bare_ratio (01+02 / the guide's commands)"),
        ("suite_bare", "suite_bare_ratio (suite / its bare Terraform)"),
    ):
        if key not in figures:
            continue
        if figures[f"{key}_ratio"] is None:
            print(f"{label}: not measured ({figures[key]['skipped']})")
            continue
        ratio, last = figures[key]["ratio"], figures[key]["last_pair"]
        print(f"{label}: {ratio['median']} (pairs {figures[key]['pair_ratios']})")
        print(
            f"  runbook's Terraform / bare Terraform: pairs {figures[key]['terraform_ratios']}; outside Terraform: "
            f"median {figures[key]['outside_terraform_seconds']['median']}s "
            f"(pairs {figures[key]['outside_terraform_seconds']['raw']})"
        )
        if "candidate" in figures[key]:
            candidate = figures[key]["candidate"]
            print(
                f"  candidate {candidate['checkout']}: {candidate['ratio']['median']} "
                f"(pairs {candidate['pair_ratios']}; runbook s {candidate['runbook_seconds']['raw']})"
            )
        print(
            "  last pair, bare:    "
            + ", ".join(f"{k} {v['count']}× {v['seconds']}s" for k, v in last["bare_commands"].items())
        )
        print(
            "  last pair, runbook: "
            + ", ".join(f"{k} {v['count']}× {v['seconds']}s" for k, v in last["runbook_commands"].items())
            + f"; outside Terraform {last['runbook_outside_terraform_seconds']}s"
        )
    if "overhead_ratio" in figures:
        print(f"overhead ratio (suite / plain python): {figures['overhead_ratio']}")
        print(
            f"--env all / one environment: {figures['all_ratio']['to_staging']} (staging), "
            f"{figures['all_ratio']['to_slower_environment']} (the slower one)"
        )
        for name, seconds in figures["per_notebook_seconds"].items():
            print(f"  {name:<30}{seconds:>8.2f}")
        tf = figures["terraform_seconds"]
        print(
            f"Terraform in the staging suite: {tf['commands']} commands, {tf['total']} s — "
            + ", ".join(f"{k} {v}" for k, v in tf["by_command"].items())
        )


if __name__ == "__main__":
    raise SystemExit(main())
