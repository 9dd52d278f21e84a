"""Kill Terraform with SIGKILL at chosen points, then check what the re-run says and that recovery brings it back.

    python benchmarks/kill_matrix.py [--case NAME]... [--json PATH]

Each case runs on a fresh emulator process of its own (``runbook emulator``: its state outlives the killed run,
as real AWS would) and a fresh work directory, with real Terraform:

1. the apply of 02 (``deploy.plan_and_review`` + ``gate_and_apply``, ``apply=True``) runs in a child process, in a
   process group of its own; at the kill point the whole group (the Python process, Terraform, the provider) gets
   SIGKILL at once — nothing stops cleanly, as when a laptop lid closes or a runner is evicted;
2. items are written to the table when it exists (the application kept working);
3. the re-run's first message: what 02 says when it plans again
(:class:`runbook.terraform.interrupted.InterruptedApply`);
4. the recovery (03's :func:`runbook.steps.interrupted.recover`) with the lock ID from that message and
``apply=True``;
5. checks: the next plan is clean, the items are intact, no version of the state object was lost.

Kill points (``--case``): ``table`` (the table exists), ``iam`` (the role and both policies exist), ``bootstrap``
(during the state bucket's bootstrap apply), ``import`` (during the recovery's own apply, after a ``table`` kill).
Prints one line per case and, with ``--json``, writes every case's outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook import paths  # noqa: E402
from runbook.aws import statebucket  # noqa: E402
from runbook.aws.target import Target  # noqa: E402
from runbook.errors import RunbookError  # noqa: E402
from runbook.steps import deploy, interrupted, preflight  # noqa: E402
from runbook.steps.context import open_context  # noqa: E402
from runbook.terraform import backend  # noqa: E402
from runbook.terraform.planning import make_plan  # noqa: E402

ENVIRONMENT = "staging"
REGION = "us-east-1"
CASES = ("table", "iam", "bootstrap", "import", "run")
ITEMS = 3


@contextmanager
def fresh_emulator():
    """``runbook emulator`` in a process of its own (moto keeps its state per process): its endpoint URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runbook.cli", "emulator"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 60
    while not (match := re.search(r"listening on (http://127\.0\.0\.1:\d+)", "".join(lines))):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start:\n" + "".join(lines))
        time.sleep(0.1)
    try:
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def context(work: Path, endpoint: str):
    return open_context(ENVIRONMENT, REGION, endpoint, str(work))


CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from runbook.steps import deploy
    from runbook.steps.context import open_context
    ctx = open_context({env!r}, {region!r}, {endpoint!r}, {work!r})
    deploy.init(ctx)
    if {apply!r}:
        reviewed = deploy.plan_and_review(ctx)
        deploy.gate_and_apply(ctx, reviewed, True, "")
""")

RECOVER_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from runbook.steps import deploy, interrupted
    from runbook.steps.context import open_context
    ctx = open_context({env!r}, {region!r}, {endpoint!r}, {work!r})
    deploy.init(ctx)
    interrupted.recover(ctx, {lock_id!r}, apply=True)
""")


def kill_when(code: str, ready, timeout: float = 300.0) -> str:
    """Run ``code`` in a child process group; SIGKILL the whole group as soon as ``ready()`` is true. Returns how it
    ended ('killed' or its exit status and output when it finished first)."""
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while child.poll() is None and time.monotonic() < deadline:
            try:
                if ready():
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()
                    return "killed"
            except Exception:  # the target is not ready to answer yet
                pass
            time.sleep(0.05)
        output = child.communicate(timeout=5)[0] if child.poll() is not None else ""
        return f"finished first (exit {child.returncode}): {output[-2000:]}"
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def planned_names(work: Path) -> dict[str, list[str]]:
    """What the plan of the apply being killed names its resources, by type: from the JSON 02 keeps beside its
    saved plan (``tfplan.json``, written before the apply starts); empty until then."""
    path = paths.work_dir(ENVIRONMENT, work) / "infrastructure" / ENVIRONMENT / "tfplan.json"  # work: the base
    names: dict[str, list[str]] = {}
    if not path.is_file():
        return names
    for rc in json.loads(path.read_text()).get("resource_changes", []):
        after = rc["change"].get("after") or {}
        if rc.get("mode") == "managed" and after.get("name"):
            names.setdefault(rc["type"], []).append(after["name"])
    return names


def ready(case: str, target: Target, names: dict[str, list[str]]) -> bool:
    """The kill point: the table exists (``table``, ``import``), or the role and every policy (``iam``)."""
    if case == "iam":
        return bool(names.get("aws_iam_role")) and iam_made(target, names["aws_iam_role"][0], names["aws_iam_policy"])
    return bool(names.get("aws_dynamodb_table")) and table_exists(target, names["aws_dynamodb_table"][0])


def write_items(target: Target, work: Path) -> None:
    """The application kept writing to the table the killed apply made (when it made it)."""
    table = (planned_names(work).get("aws_dynamodb_table") or [""])[0]
    if table and table_exists(target, table):
        dynamodb = target.client("dynamodb")
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        for i in range(ITEMS):
            dynamodb.put_item(TableName=table, Item={"user_id": {"S": f"u{i}"}, "notification_id": {"S": f"n{i}"}})


def existing(target: Target, names: dict[str, list[str]]) -> list[str]:
    """Which of the table, the role, the policies and the instance profile the plan names exist now (asked
    directly, not through the code under test)."""
    iam, found = target.client("iam"), []
    for name in names.get("aws_dynamodb_table", []):
        found += [name] if table_exists(target, name) else []
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    policies = {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
    profiles = {p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]}
    found += [n for n in names.get("aws_iam_role", []) if n in roles]
    found += [n for n in names.get("aws_iam_policy", []) if n in policies]
    found += [n for n in names.get("aws_iam_instance_profile", []) if n in profiles]
    return found


def table_exists(target: Target, name: str) -> bool:
    from runbook.aws.discovery import table_description

    return table_description(target.client("dynamodb"), name) is not None


def iam_made(target: Target, role: str, policies: list[str]) -> bool:
    iam = target.client("iam")
    iam.get_role(RoleName=role)
    have = {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
    return set(policies) <= have


def state_versions(target: Target, config) -> list[str]:
    s3 = statebucket.s3_client(target, config.endpoint_url)
    found = s3.list_object_versions(Bucket=config.bucket, Prefix=config.key)
    return [v["VersionId"] for v in found.get("Versions", []) if v["Key"] == config.key]


def first_message(work: Path, endpoint: str) -> tuple[str, str]:
    """What 02 says when it plans again after the kill: the error's text and the lock ID it names."""
    ctx = context(work, endpoint)
    deploy.init(ctx)
    try:
        deploy.plan_and_review(ctx)
    except RunbookError as error:
        diagnosis = getattr(error, "diagnosis", None)
        lock = diagnosis.lock.info.id if diagnosis is not None and diagnosis.lock is not None else ""
        return f"{type(error).__name__}: {error}", lock
    return "no error: 02 planned as usual", ""


def prepare(work: Path, endpoint: str) -> None:
    ctx = context(work, endpoint)
    preflight.working_tfvars(ctx)  # 01's copy of the example (an AMI the emulator knows)


def runbook_run(endpoint: str, work: Path, output: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runbook.cli",
            "run",
            "--env",
            ENVIRONMENT,
            "--only",
            "01",
            "--only",
            "02",
            "--endpoint-url",
            endpoint,
            "--work-dir",
            str(work.parent),
            "--output-dir",
            str(output),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_everything(process: subprocess.Popen) -> int:
    """SIGKILL the run and every process below it at once (its watchdog first: nothing may clean up)."""
    import psutil

    tree = [process.pid] + [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
    watchdogs = [pid for pid in tree if "--watch" in " ".join(_cmdline(pid))]
    for pid in watchdogs + [p for p in tree if p not in watchdogs]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    return len(tree)


def _cmdline(pid: int) -> list[str]:
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def run_command_case(work: Path, endpoint: str, target: Target, outcome: dict) -> None:
    """``runbook run`` itself killed during 02's apply; the same command again; the kept notebooks."""
    output = work.parent / "runs"
    run = runbook_run(endpoint, work, output)
    deadline = time.monotonic() + 900
    while not ready("table", target, planned_names(work)):
        if run.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("runbook run ended before the kill point:\n" + run.communicate()[0][-3000:])
        time.sleep(0.05)
    outcome["kill"] = f"killed {kill_everything(run)} processes"
    write_items(target, work)
    again = runbook_run(endpoint, work, output)
    summary = again.communicate(timeout=1200)[0]
    outcome["rerun_exit"] = again.returncode
    outcome["rerun_summary"] = "\n".join(line for line in summary.splitlines() if "staging" in line)[:1500]
    from runbook.execution.record import read_records

    setup = read_records(output / ENVIRONMENT / "01-setup.ipynb")
    check = next((c for c in setup.get("checks", []) if c["name"] == "interrupted apply"), None)
    outcome["first_message"] = check["detail"] if check else "(01 found nothing)"
    kept = json.loads((output / ENVIRONMENT / "02-plan-and-apply.ipynb").read_text())
    outcome["kept_02"] = {
        "status": (kept["metadata"].get("runbook") or {}).get("status"),
        "banner": kept["cells"][0]["source"][:1500] if kept["cells"] else "",
    }


def run_case(case: str, base: Path) -> dict:
    work = base / case / ENVIRONMENT
    outcome: dict = {"case": case}
    with fresh_emulator() as endpoint:
        target = Target(REGION, endpoint)
        if case == "run":
            run_command_case(work, endpoint, target, outcome)
            outcome["left_behind"] = {"objects": existing(target, planned_names(work))}
            ctx = context(work, endpoint)
            config = backend.resolve(ctx.workspace, ctx.target, check_bucket_exists=False)
            lock = statebucket.read_lock(target, config)
            outcome["left_behind"]["lock"] = lock.id if lock else ""
            outcome["names_everything"] = (
                all(
                    name in outcome["first_message"]
                    for name in [outcome["left_behind"]["lock"], *outcome["left_behind"]["objects"]]
                    if name
                )
                and outcome["kept_02"]["status"] == "interrupted"
            )
            return finish(case, work, endpoint, target, outcome, lock.id if lock else "")
        prepare(work, endpoint)
        child = CHILD.format(
            root=str(ROOT), env=ENVIRONMENT, region=REGION, endpoint=endpoint, work=str(work), apply=case != "bootstrap"
        )
        if case == "bootstrap":
            outcome["kill"] = kill_when(child, lambda: statebucket.bucket_exists(target, backend.EMULATOR_BUCKET))
            s3 = statebucket.s3_client(target)
            outcome["left_behind"] = {
                "bucket": backend.EMULATOR_BUCKET,
                "versioning": s3.get_bucket_versioning(Bucket=backend.EMULATOR_BUCKET).get("Status", "off"),
            }
            ctx = context(work, endpoint)  # 01's bucket check, as the re-run's 01 makes it
            found, _ = preflight.state_bucket(ctx, Target(REGION, endpoint))
            outcome["first_message"] = "; ".join(f"{c.name}: {c.detail}" for c in found)
            versioning = s3.get_bucket_versioning(Bucket=backend.EMULATOR_BUCKET).get("Status", "off")
            outcome["versioning_after"] = versioning
            outcome["names_everything"] = (
                "interrupted" in outcome["first_message"]
                and backend.EMULATOR_BUCKET in outcome["first_message"]
                and versioning == "Enabled"
            )
            deploy.init(ctx)
            return finish(case, work, endpoint, target, outcome, "")
        else:
            deploy.init(context(work, endpoint))  # the bucket, before the apply that is killed
            outcome["kill"] = kill_when(child, lambda: ready(case, target, planned_names(work)))
            write_items(target, work)
        ctx = context(work, endpoint)
        config = backend.resolve(ctx.workspace, ctx.target, check_bucket_exists=False)
        left_lock = statebucket.read_lock(target, config) if statebucket.bucket_exists(target, config.bucket) else None
        outcome["left_behind"] = {
            "lock": left_lock.id if left_lock else "",
            "objects": existing(target, planned_names(work)),
        }
        message, lock_id = first_message(work, endpoint)
        outcome["first_message"] = message
        outcome["names_everything"] = all(
            name in message for name in [outcome["left_behind"]["lock"], *outcome["left_behind"]["objects"]] if name
        )
        if case == "import":
            code = RECOVER_CHILD.format(
                root=str(ROOT), env=ENVIRONMENT, region=REGION, endpoint=endpoint, work=str(work), lock_id=lock_id
            )
            outcome["kill_import"] = kill_when(code, lambda: _recovery_applying(target, config))
            message, lock_id = first_message(work, endpoint)
            outcome["second_message"] = message
        return finish(case, work, endpoint, target, outcome, lock_id)


def finish(case: str, work: Path, endpoint: str, target: Target, outcome: dict, lock_id: str) -> dict:
    """The recovery with the lock ID the re-run named, then: the next plan, the items, the state's versions."""
    ctx = context(work, endpoint)
    config = backend.resolve(ctx.workspace, ctx.target, check_bucket_exists=False)
    before = state_versions(target, config)
    deploy.init(ctx)
    lines: list[str] = []
    try:
        recovered = interrupted.recover(ctx, lock_id, apply=True, show=lambda text: lines.append(str(text)))
        outcome["recovery"] = {
            "released": recovered.released,
            "rounds": recovered.rounds,
            "left": [o.address for o in recovered.left],
            "nothing_to_recover": recovered.nothing_to_recover,
        }
    except RunbookError as error:
        outcome["recovery"] = {"error": f"{type(error).__name__}: {error}"}
    try:
        final = make_plan(ctx.terraform)
        if final.has_changes:  # what the killed apply never reached and recovery did not plan: 02 creates it
            deploy.gate_and_apply(ctx, deploy.plan_and_review(ctx), True, "")
            final = make_plan(ctx.terraform)
        outcome["next_plan"] = "clean" if not final.has_changes else f"changes: {final.plan.summary}"
    except RunbookError as error:
        outcome["next_plan"] = f"{type(error).__name__}: {error}"
    table = ctx.table.name if ctx.table else ""
    if table and table_exists(target, table) and case != "bootstrap":
        outcome["items"] = target.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
    after = state_versions(target, config)
    outcome["state_versions"] = {
        "before_recovery": len(before),
        "after": len(after),
        "lost": sorted(set(before) - set(after)),
    }
    outcome["ok"] = (
        outcome["names_everything"]
        and outcome["next_plan"] == "clean"
        and not outcome["state_versions"]["lost"]
        and outcome.get("items", ITEMS) == ITEMS
        and "error" not in outcome["recovery"]
    )
    return outcome


def _recovery_applying(target: Target, config) -> bool:
    """The recovery's ``terraform apply`` has taken the state lock (it is importing)."""
    lock = statebucket.read_lock(target, config)
    return lock is not None and lock.operation_label == "apply"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="kill-matrix-") as base:
        for case in options.case or CASES:
            started = time.perf_counter()
            try:
                outcome = run_case(case, Path(base))
            except Exception as error:  # report the case, go on with the next
                outcome = {"case": case, "ok": False, "error": f"{type(error).__name__}: {error}"}
            outcome["seconds"] = round(time.perf_counter() - started, 1)
            results.append(outcome)
            print(f"== {case}: {'ok' if outcome.get('ok') else 'FAILED'} ({outcome['seconds']} s)")
            for key, value in outcome.items():
                if key not in ("case", "ok", "seconds"):
                    print(f"   {key}: {value}")
            sys.stdout.flush()
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))
    return 0 if all(r.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
