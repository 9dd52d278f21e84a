"""The state bucket of ``runbook run``'s own emulator, bootstrapped while the first kernel boots.

A fresh emulator has no state bucket, so the first Terraform step of a run bootstraps one
(``infrastructure/bootstrap``: ``init`` and ``apply``, about 12 s). When ``runbook run`` starts its own emulator it
knows that as soon as the emulator is up, about 2 s before 01's first cell can run (the first kernel boots and
imports in the meantime): :func:`bootstrapping` starts that same bootstrap then, with real Terraform, in a process
of its own, so a stop reaches its Terraform as it reaches a notebook's (:func:`runbook.kernels.interrupt_kernels`:
Terraform gets the signal first and finishes on its own).

The notebooks do not change: 01's bucket check (:func:`runbook.backend.ensure_bucket`) waits for the bootstrap's
lock, which this takes before it returns, finds the bucket and reports it as created by ``infrastructure/bootstrap``
as this run started. If this bootstrap failed, 01 runs it again itself and shows Terraform's error.
"""

from __future__ import annotations

import fcntl
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from runbook import processes
from runbook.aws.target import Target
from runbook.terraform.backend import EMULATOR_BUCKET
from runbook.terraform.bootstrap import BOOTSTRAP_DIR, BOOTSTRAP_LOCK
from runbook.terraform.command import bootstrap

#: Where the bootstrap process writes what it prints (in the bootstrap's directory).
LOG_FILE = "made-ahead.log"


@contextmanager
def bootstrapping(endpoint_url: str, region: str, work_dir: Path) -> Iterator[subprocess.Popen | None]:
    """Bootstrap the emulator's state bucket in ``work_dir/bootstrap`` (``work_dir``: the parent of the
    environments' work directories, as :func:`runbook.backend.ensure_bucket` has it), in the background. The lock is
    held from the start (the process, or ``None`` when another holds it: that one bootstraps); when the block ends, a
    bootstrap still running is stopped."""
    base = Path(work_dir) / BOOTSTRAP_DIR
    base.mkdir(parents=True, exist_ok=True)
    with open(base / BOOTSTRAP_LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # handed to the child, which releases it when done
        except BlockingIOError:  # another run bootstraps in this work directory: it is not this run's to wait for
            yield None
            return
        with open(base / LOG_FILE, "w") as log:
            process = processes.popen(
                [sys.executable, "-m", __name__, endpoint_url, region, str(work_dir), str(lock.fileno())],
                pass_fds=(lock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    try:
        yield process
    finally:
        if process.poll() is None:
            processes.stop_process(process, signal.SIGTERM)
        process.wait()


def main(argv: list[str]) -> int:
    """``python -m runbook.bucket_ahead ENDPOINT_URL REGION WORK_DIR LOCK_FD`` (:func:`bootstrapping`)."""
    endpoint_url, region, work_dir, lock = argv
    try:
        outputs = bootstrap(Target(region, endpoint_url), EMULATOR_BUCKET, Path(work_dir), held=int(lock), ahead=True)
    except KeyboardInterrupt:
        return 130
    print(f"state bucket {outputs.get('bucket', EMULATOR_BUCKET)} on {endpoint_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
