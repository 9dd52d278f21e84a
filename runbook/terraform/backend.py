"""Team state: the S3 backend (``backend "s3" {}`` + a backend config file), its bucket, its lock.

Every Terraform step of the runbook initialises the environment's root with the S3 backend, one state object per
environment, locked with a lock object (``use_lockfile = true``, Terraform ≥ 1.10):

- **Which backend config** (:func:`resolve`): an explicit file, else the operator's
  ``infrastructure/<env>/backend.hcl`` (gitignored, copied from ``backend.hcl.example``), else — on an emulator
  only — one generated in the work directory (``<work_dir>/backend.hcl``: the emulator's S3 endpoint, path-style
  addressing, the skip flags; dummy credentials come from the environment). The operator's file is validated
  before ``terraform init`` (:func:`validate`): a missing bucket or key, a bucket that does not exist, a key the
  other environment uses too — each a :class:`~runbook.errors.ConfigurationError` naming the file and line, and
  nothing has changed.
- **The bucket** (:func:`check_bucket`, :func:`ensure_bucket`, :func:`bootstrap`): ``infrastructure/bootstrap``
  creates it (versioned, encrypted, public access blocked, TLS only). On an emulator the runbook runs that
  configuration itself, with Terraform, in the work directory; against AWS it never creates the bucket unasked
  and shows the command instead (:func:`bootstrap_command`).
- **The lock holds only if the endpoint honours conditional writes** (:func:`probe_conditional_writes`): a second
  ``PutObject`` with ``If-None-Match: *`` on the same key must get HTTP 412.
- **A held lock** (:func:`lock_error`, :func:`read_lock`, :func:`lock_check`): Terraform's "Error acquiring the
  state lock" becomes :class:`~runbook.errors.StateLocked` naming who holds it, since when, for what operation, and
  the exact ``terraform force-unlock`` command; 04 reads the lock object itself to diagnose a stale lock.
- **A local state is never taken over** (:func:`runbook.terraform.initialised.refuse_local_state`, with what
  ``init`` recorded in the work directory): a ``terraform.tfstate`` there (a by-hand ``terraform apply`` without
  the backend) stops ``init`` with the command that moves it into the bucket; nothing is moved or overwritten.

Nothing here restates the configuration: the default state key is read from the environment's
``backend.hcl.example``, the bucket's properties from S3, the lock from Terraform's own lock object or message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from runbook import hcl, paths
from runbook.aws.statebucket import bootstrap_command, bucket_exists, read_lock, s3_client, state_exists
from runbook.aws.target import Target
from runbook.checks import Check
from runbook.errors import ConfigurationError, ParameterError, RealAwsRefused
from runbook.terraform.lock import force_unlock_command

if TYPE_CHECKING:  # pragma: no cover
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

#: The file an operator writes per environment (gitignored), and the committed example it is copied from.
BACKEND_FILE = "backend.hcl"
EXAMPLE_FILE = "backend.hcl.example"
#: The generated backend config on an emulator, in the environment's work directory (never in the tree).
GENERATED_FILE = "backend.hcl"
#: The state bucket the runbook bootstraps on an emulator (real accounts name theirs in backend.hcl).
EMULATOR_BUCKET = "notifications-tfstate"
#: How long a Terraform command waits for a held state lock before it stops (``-lock-timeout``).
LOCK_TIMEOUT_VARIABLE = "RUNBOOK_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = "10s"
#: The suffix of the lock object the S3 backend writes next to the state (``use_lockfile``).
LOCK_SUFFIX = ".tflock"
_TIMEOUT = re.compile(r"^\d+(ms|s|m|h)$")


# --- the backend config file -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendConfig:
    """The backend config ``terraform init`` gets: the file, where it came from, and what it says."""

    path: Path
    origin: str  # "parameter" | "operator" | "generated"
    bucket: str
    key: str
    region: str
    endpoint_url: str | None = None  # the S3 endpoint (an emulator); None: AWS's own
    key_override: bool = False  # the key was given on top of the file (``-backend-config=key=…``)
    settings: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def lock_key(self) -> str:
        return self.key + LOCK_SUFFIX

    @property
    def uses_lockfile(self) -> bool:
        return self.settings.get("use_lockfile") is True

    def init_args(self) -> list[str]:
        args = [f"-backend-config={self.path}"]
        if self.key_override:
            args.append(f"-backend-config=key={self.key}")
        return args

    def describe(self) -> str:
        where = {
            "parameter": "the file given",
            "operator": "the operator's file",
            "generated": "generated for the emulator",
        }[self.origin]
        return f"s3://{self.bucket}/{self.key} ({self.region}) — {self.path} ({where})"

    def as_row(self) -> dict:
        return {
            "file": str(self.path),
            "origin": self.origin,
            "bucket": self.bucket,
            "key": self.key,
            "region": self.region,
            "endpoint": self.endpoint_url or "AWS",
            "lock": "use_lockfile"
            if self.uses_lockfile
            else ("dynamodb_table" if self.settings.get("dynamodb_table") else "none"),
        }


def operator_file(environment: str) -> Path:
    """``infrastructure/<env>/backend.hcl``: the operator's backend config (may not exist)."""
    return paths.environment_dir(environment) / BACKEND_FILE


def example_file(environment: str) -> Path:
    return paths.environment_dir(environment) / EXAMPLE_FILE


def read_file(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The settings of a backend config file (HCL attributes, :func:`runbook.hcl.read`) and the line each is
    written on."""
    values = hcl.read(path)
    lines: dict[str, int] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if match:
            lines.setdefault(match.group(1), number)
    return values, lines


def default_key(environment: str, suffix: str = "") -> str:
    """The environment's state key, as its committed ``backend.hcl.example`` names it.

    ``suffix`` gives a scratch state of its own beside it (the import demo: ``default_key(env, "import-demo")``
    → ``notifications/staging-import-demo.tfstate``).
    """
    values, _ = read_file(example_file(environment))
    key = values.get("key") or f"{environment}.tfstate"
    if suffix:
        stem, dot, ext = key.rpartition(".")
        key = f"{stem}-{suffix}.{ext}" if dot else f"{key}-{suffix}"
    return key


def state_key(environment: str, config: "BackendConfig | None" = None) -> str:
    """The environment's own state key: its backend config file's (the operator's ``backend.hcl``, or the file
    given), else — on an emulator, with the generated config — its committed ``backend.hcl.example``'s. Where a work
    directory lies never changes it; any other key is a caller's explicit choice (``Terraform.state_key``, e.g. the
    import demo's ``default_key(env, "import-demo")``), which :func:`key_note` then says.
    """
    if config is not None and config.origin != "generated":
        return read_file(config.path)[0].get("key") or default_key(environment)
    return default_key(environment)


def key_note(environment: str, config: "BackendConfig") -> str:
    """What a plan's header says of a state key that is not the environment's own ('' when it is)."""
    own = state_key(environment, config)
    if config.key == own:
        return ""
    return f"a state of its own, chosen explicitly — not the {environment} environment's `{own}`"


def validate(path: Path, environment: str, target: Target | None = None, origin: str = "operator") -> BackendConfig:
    """Check a backend config file before ``terraform init``; raise ConfigurationError (file, line) if unusable.

    - ``bucket`` and ``key`` must be set (non-empty);
    - locking must be on: ``use_lockfile = true`` (or the deprecated ``dynamodb_table``);
    - the other environment must not use the same bucket and key (its ``backend.hcl``, else its example's key);
    - with ``target``, the bucket must exist and be reachable (S3 HeadBucket).
    """
    path = Path(path)
    values, lines = read_file(path)
    for name, what in (
        ("bucket", "the state bucket's name (the one infrastructure/bootstrap created)"),
        ("key", f"this environment's state object, e.g. {default_key(environment)!r}"),
    ):
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            if name in lines:
                raise ConfigurationError(path, f"`{name}` is empty: set it to {what}", lines[name])
            raise ConfigurationError(
                path, f'`{name}` is missing: add `{name} = "…"`, {what} (see {example_file(environment).name})'
            )
    if values.get("use_lockfile") is not True and not values.get("dynamodb_table"):
        raise ConfigurationError(
            path,
            "locking is off: set `use_lockfile = true` (Terraform ≥ 1.10 locks the state "
            "with a lock object next to it); without a lock two runs can write the state at once",
            lines.get("use_lockfile"),
        )
    bucket, key = values["bucket"], values["key"]
    _check_not_shared(path, environment, bucket, key, lines.get("key"))
    region = values.get("region") or (target.region if target else "")
    endpoint = (values.get("endpoints") or {}).get("s3") if isinstance(values.get("endpoints"), dict) else None
    config = BackendConfig(path, origin, bucket, key, region, endpoint or None, settings=values)
    if target is not None:
        _check_bucket_exists(config, target, lines.get("bucket"))
    return config


def _check_not_shared(path: Path, environment: str, bucket: str, key: str, line: int | None) -> None:
    for other in paths.ENVIRONMENTS:
        if other == environment:
            continue
        other_file = operator_file(other)
        if other_file.is_file() and other_file.resolve() != path.resolve():
            try:
                theirs, their_lines = read_file(other_file)
            except ConfigurationError:
                continue  # that file's own problems are reported when that environment runs
            if theirs.get("bucket") == bucket and theirs.get("key") == key:
                raise ConfigurationError(
                    path,
                    f"key {key!r} in bucket {bucket!r} is also {other}'s state "
                    f"({other_file}:{their_lines.get('key')}): each environment needs its own "
                    f"key, e.g. {default_key(environment)!r}",
                    line,
                )
        elif key == default_key(other):
            raise ConfigurationError(
                path,
                f"key {key!r} is {other}'s state key ({example_file(other)}): each "
                f"environment needs its own, e.g. {default_key(environment)!r}",
                line,
            )


def _check_bucket_exists(config: BackendConfig, target: Target, line: int | None) -> None:

    try:
        s3_client(target, config.endpoint_url).head_bucket(Bucket=config.bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise ConfigurationError(
                config.path,
                f"bucket {config.bucket!r} does not exist ({target.label}): create "
                f"it once per account with `{bootstrap_command(config.bucket, config.region)}`, "
                "or correct the name",
                line,
            ) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise ConfigurationError(
                config.path,
                f"bucket {config.bucket!r} exists but these credentials may not "
                "use it (403): check the bucket name, or grant s3:ListBucket, s3:GetObject, "
                "s3:PutObject and s3:DeleteObject on it",
                line,
            ) from None
        raise ConfigurationError(config.path, f"bucket {config.bucket!r}: {error}", line) from None
    except BotoCoreError as error:
        raise ConfigurationError(config.path, f"cannot check bucket {config.bucket!r}: {error}", line) from None


def generated_text(bucket: str, key: str, region: str, endpoint_url: str) -> str:
    """The backend config for an emulator: its S3 endpoint, path-style addressing, no AWS account checks."""
    return (
        "# Generated by the runbook for an emulator run; never committed. Credentials: the environment's\n"
        "# (dummy keys on an emulator).\n"
        f'bucket       = "{bucket}"\n'
        f'key          = "{key}"\n'
        f'region       = "{region}"\n'
        "encrypt      = true\n"
        "use_lockfile = true\n"
        "\n"
        f'endpoints                   = {{ s3 = "{endpoint_url}" }}\n'
        "use_path_style              = true\n"
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        "skip_region_validation      = true\n"
    )


def resolve(
    workspace: "Workspace",
    target: Target,
    *,
    key: str | None = None,
    path: str | Path | None = None,
    check_bucket_exists: bool = True,
) -> BackendConfig:
    """The backend config the workspace's ``terraform init`` uses (see the module docstring for the order).

    ``key`` replaces the file's key (a scratch state beside the environment's, chosen explicitly: see
    :func:`default_key`); without it the key is the environment's own (:func:`state_key`), wherever the work
    directory lies.
    ``path`` is an explicit file (a notebook parameter). On an emulator with no explicit file the generated one
    is (re)written in the work directory; the operator's ``backend.hcl`` names their AWS bucket and is not used.
    """
    environment = workspace.environment
    if path:
        config = validate(Path(path), environment, target if check_bucket_exists else None, origin="parameter")
    elif not target.is_emulator:
        file = operator_file(environment)
        if not file.is_file():
            raise ConfigurationError(
                file,
                f"missing: the S3 backend needs this environment's backend config. Copy "
                f"{EXAMPLE_FILE} to {BACKEND_FILE} beside it and set `bucket` to the state bucket "
                f"(create it once with `{bootstrap_command('<bucket>', target.region)}`)",
            )
        config = validate(file, environment, target if check_bucket_exists else None)
    else:
        the_key = key or default_key(environment)
        file = workspace.base / GENERATED_FILE
        file.parent.mkdir(parents=True, exist_ok=True)
        text = generated_text(EMULATOR_BUCKET, the_key, target.region, target.endpoint_url)
        if not file.is_file() or file.read_text() != text:
            file.write_text(text)
        values, _ = read_file(file)
        return BackendConfig(
            file, "generated", EMULATOR_BUCKET, the_key, target.region, target.endpoint_url, settings=values
        )
    if key and key != config.key:
        config = BackendConfig(
            config.path,
            config.origin,
            config.bucket,
            key,
            config.region,
            config.endpoint_url,
            key_override=True,
            settings=config.settings,
        )
    return config


def lock_timeout(value: str | None = None) -> str:
    """The ``-lock-timeout`` Terraform commands wait for a held lock: ``value``, ``RUNBOOK_LOCK_TIMEOUT`` or 10s."""

    chosen = value or os.environ.get(LOCK_TIMEOUT_VARIABLE) or DEFAULT_LOCK_TIMEOUT
    if not _TIMEOUT.match(chosen):
        raise ParameterError(
            "lock_timeout" if value else LOCK_TIMEOUT_VARIABLE, chosen, "a duration such as '0s', '10s' or '2m'"
        )
    return chosen


def init_report(terraform: "Terraform") -> str:
    """After :meth:`Terraform.init`: where the state is and how it is locked (Markdown)."""
    config = terraform.backend
    if config is None:
        return "No backend: `terraform init` has not run with one."
    note = key_note(terraform.workspace.environment, config)
    lines = [
        f"State: `s3://{config.bucket}/{config.key}` ({config.region}){' — ' + note if note else ''}, backend "
        f"config `{config.path}` ({config.origin}); lock: {config.as_row()['lock']}, "
        f"`-lock-timeout={lock_timeout(terraform.lock_timeout)}`."
    ]
    return "\n\n".join(lines)


# --- the state lock ---------------------------------------------------------------------------------------------


def lock_check(terraform: "Terraform", config: BackendConfig | None = None) -> Check:
    """04's diagnosis: is the environment's state locked now? By whom, since when, and how to release it."""
    config = (
        config
        or terraform.backend
        or resolve(terraform.workspace, terraform.target, key=terraform.state_key, check_bucket_exists=False)
    )
    try:
        info = read_lock(terraform.target, config)
    except Exception as error:  # no bucket, no credentials: say so, do not guess
        return Check(
            "state lock",
            False,
            f"cannot read s3://{config.bucket}/{config.lock_key}: {error}",
            "check the backend config and the credentials",
        )
    if info is None:
        return Check("state lock", True, f"not locked (no s3://{config.bucket}/{config.lock_key})")
    detail = (
        f"locked by {info.who or 'unknown'} since {info.created or 'unknown'} ({info.age()} ago) for "
        f"{info.operation_label}, lock ID {info.id or 'unknown'}"
    )
    fix = (
        "if that run is still going, wait for it; once you have checked it is gone (the process, the CI job, the "
        "colleague), release the lock: "
        + (force_unlock_command(terraform, info.id) if info.id else f"delete s3://{config.bucket}/{config.lock_key}")
    )
    return Check("state lock", False, detail, fix)


def discard_scratch_state(terraform: "Terraform") -> bool:
    """Delete a scratch workspace's state object (the import demo's, before it starts again). Emulator only.

    Refuses the environment's own key and real AWS. Returns whether there was a state to delete.
    """

    if not terraform.target.is_emulator:
        raise RealAwsRefused("a scratch state is discarded only on an emulator")
    config = terraform.backend or resolve(
        terraform.workspace, terraform.target, key=terraform.state_key, check_bucket_exists=False
    )
    if config.key == default_key(terraform.workspace.environment):
        raise ConfigurationError(
            config.path,
            f"{config.key} is the {terraform.workspace.environment} environment's "
            "state, not a scratch one: not deleted",
        )
    if not bucket_exists(terraform.target, config.bucket) or not state_exists(terraform.target, config):
        return False
    s3_client(terraform.target, config.endpoint_url).delete_object(Bucket=config.bucket, Key=config.key)
    return True
