"""Running Terraform in a workspace: one ``terraform`` command at a time, with what every command needs.

:class:`TerraformRunner` runs ``terraform ARGS`` in the workspace's configuration copy, aimed at its target: the
environment (region, dummy credentials on an emulator), the endpoint override, ``-lock-timeout`` on the commands
that take the state lock (a held lock raises :class:`~runbook.errors.StateLocked`), the timing log
(``RUNBOOK_TERRAFORM_TIMINGS``), the outputs an ``apply -json`` reported, and the digest of what Terraform reads
there. The commands themselves (``init``, ``plan``, ``apply``, the state readers) are
:class:`runbook.terraform.command.Terraform`'s, built on it.

Terraform layer, below :mod:`runbook.terraform.command`: imports the base and AWS layers and
:mod:`runbook.terraform.binary`, ``.workspace``, ``.stream``, ``.lock`` and ``.backend`` (the lock timeout).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runbook.aws.target import DUMMY_CREDENTIALS, Target
from runbook.errors import TerraformError
from runbook.processes import die_with_parent
from runbook.terraform.backend import lock_timeout
from runbook.terraform.binary import Binary, base_environment, cli_config_file
from runbook.terraform.lock import LOCK_ERROR, lock_error
from runbook.terraform.stream import run_streaming, ui_messages
from runbook.terraform.workspace import OVERRIDE_FILE, Workspace, override_text

#: When set to a file path, every Terraform command appends ``{"command", "seconds", "root"}`` to it as a JSON
#: line: where a run's time goes (``benchmarks/run.py`` sets it).
TIMINGS_VARIABLE = "RUNBOOK_TERRAFORM_TIMINGS"
#: Commands that take the state lock: they get ``-lock-timeout`` (see :func:`runbook.terraform.backend.lock_timeout`).
LOCKING_COMMANDS = ("apply", "destroy", "import", "init", "plan", "refresh", "taint", "untaint")
#: Commands after which the outputs an apply reported may no longer be the state's.
_STATE_CHANGING = ("apply", "destroy", "import", "init", "refresh", "state", "taint", "untaint", "force-unlock")
#: ``terraform state`` subcommands that only read.
_STATE_READING = ("list", "pull", "show")
#: The files of a configuration copy that Terraform reads: configuration, templates, lock file, backend configs.
INPUT_SUFFIXES = (".tf", ".tftpl", ".hcl")


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


class TerraformRunner:
    """``terraform`` commands in one environment's workspace, aimed at ``target`` (AWS or an emulator).

    ``lock_timeout``: how long a command waits for a held state lock (default ``RUNBOOK_LOCK_TIMEOUT`` or 10s).
    """

    lock_timeout: str | None = None
    #: The root outputs the last ``apply -json`` through this object reported (None: ask ``terraform output``).
    applied_outputs: dict | None = None

    def __init__(
        self, workspace: Workspace, target: Target, binary: Binary | None = None, var_file: Path | None = None
    ):
        self.workspace = workspace
        self.target = target
        self.binary = binary or Binary.find()
        #: The working tfvars (``runbook.workconfig``), passed to every command that reads variables.
        self.var_file = Path(var_file) if var_file else None

    def var_args(self) -> list[str]:
        return [f"-var-file={self.var_file}"] if self.var_file else []

    def environment(self) -> dict[str, str]:
        env = base_environment()
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.target.region
        if self.target.is_emulator:
            for name, value in DUMMY_CREDENTIALS.items():
                env.setdefault(name, value)
            # The override carries the endpoints; keep a global endpoint from leaking into real-AWS services.
            env.pop("AWS_ENDPOINT_URL", None)
        return env

    def prepare(self) -> Path:
        """Sync the configuration copy and (for an emulator) write the endpoint override."""
        root = self.workspace.sync()
        override = root / OVERRIDE_FILE
        if self.target.is_emulator:
            override.write_text(override_text(self.target.endpoint_url))
        elif override.exists():
            override.unlink()
        return root

    def run(self, *args: str, check: bool = True, ok_codes: tuple[int, ...] = (0,), progress: bool = False) -> Result:
        """Run ``terraform ARGS`` in the workspace root.

        Commands that take the state lock get ``-lock-timeout``; when the lock is held by someone else the
        command stops with :class:`~runbook.errors.StateLocked` (whatever ``check`` says): who, since when, the
        ``force-unlock`` command. With ``progress`` (a ``-json`` plan or apply), Terraform's resource-by-resource
        lines are printed as they arrive (:func:`runbook.terraform.stream.progress_line`).
        """
        args = _with_lock_timeout(args, self.lock_timeout)
        start = time.perf_counter()
        command = [*self.binary.command, *args]
        if progress:
            proc = run_streaming(command, self.workspace.root, self.environment())
        else:
            proc = subprocess.run(
                command,
                cwd=self.workspace.root,
                capture_output=True,
                text=True,
                env=self.environment(),
                preexec_fn=die_with_parent,
            )  # SIGTERM (lock released) if this process dies
        _log_timing(args[0], time.perf_counter() - start, self.workspace.root)
        result = Result(list(args), proc.returncode, proc.stdout, proc.stderr)
        if args and args[0] in _STATE_CHANGING and not (args[0] == "state" and args[1:2] and args[1] in _STATE_READING):
            self.applied_outputs = (
                _reported_outputs(proc.stdout)
                if args[0] == "apply" and "-json" in args and proc.returncode == 0
                else None
            )
        if proc.returncode != 0 and LOCK_ERROR in proc.stdout + proc.stderr:
            raise lock_error(self, proc.stdout + "\n" + proc.stderr, list(args))
        if check and proc.returncode not in ok_codes:
            raise TerraformError(args, proc.returncode, proc.stderr or proc.stdout)
        return result

    def inputs_digest(self, *extra: str | Path) -> str:
        """SHA-256 of what Terraform reads here: the binary, the CLI config, every configuration, template and
        ``.hcl`` file of the copy (overrides, import blocks and lock file included), the working tfvars, and
        ``extra`` (files by content, anything else as text)."""
        digest = hashlib.sha256("\0".join(self.binary.command).encode())
        files = sorted(
            p
            for p in self.workspace.tree.rglob("*")
            if p.suffix in INPUT_SUFFIXES and ".terraform" not in p.relative_to(self.workspace.tree).parts
        )
        files += [cli_config_file()] + ([self.var_file] if self.var_file else [])
        for item in [*files, *extra]:
            path = Path(item) if isinstance(item, Path) else None
            content = (path.read_bytes() if path.is_file() else b"(none)") if path else str(item).encode()
            digest.update(str(item).encode() + b"\0" + content + b"\0")
        return digest.hexdigest()


def _reported_outputs(stdout: str) -> dict | None:
    """The root outputs an ``apply -json`` ended with (its ``outputs`` message), or None when it reported none or
    withheld a value (a sensitive output)."""
    reported = next((m.get("outputs") for m in reversed(ui_messages(stdout)) if m.get("type") == "outputs"), None)
    if reported is None or not all("value" in item for item in reported.values()):
        return None
    return {name: item["value"] for name, item in reported.items()}


def _with_lock_timeout(args: tuple[str, ...], timeout: str | None) -> tuple[str, ...]:
    """``args`` with ``-lock-timeout=…`` after the command name, for commands that take the state lock."""
    if not args or args[0] not in LOCKING_COMMANDS:
        return args
    if any(a.startswith("-lock-timeout") or a == "-lock=false" for a in args[1:]):
        return args
    return (args[0], f"-lock-timeout={lock_timeout(timeout)}", *args[1:])


def _log_timing(command: str, seconds: float, root: Path) -> None:
    path = os.environ.get(TIMINGS_VARIABLE)
    if path:
        with open(path, "a") as log:
            log.write(
                json.dumps(
                    {
                        "command": command,
                        "seconds": round(seconds, 3),
                        "root": str(root),
                        "ended": round(time.time(), 3),
                    }
                )
                + "\n"
            )
