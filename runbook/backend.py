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
- **Migration** (:func:`local_state`, used by :meth:`runbook.terraform.Terraform.init`): a work directory from the
  earlier, local-state version is moved into the backend once with ``terraform init -migrate-state``.

Nothing here restates the configuration: the default state key is read from the environment's
``backend.hcl.example``, the bucket's properties from S3, the lock from Terraform's own lock object or message.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from . import paths
from .aws import Target
from .errors import ConfigurationError, StateLocked, TerraformError
from .preflight import Check
from .processes import RUN_VARIABLE

if TYPE_CHECKING:  # pragma: no cover
    from .terraform import Terraform, Workspace

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
#: Terraform's words when it cannot take the state lock.
LOCK_ERROR = "Error acquiring the state lock"
BOOTSTRAP_DIR = "bootstrap"
#: The bootstrap's lock file in it (:func:`bootstrap_lock`), and the record of a bootstrap ``runbook run`` made
#: before its first notebook (:func:`made_ahead`).
BOOTSTRAP_LOCK = ".bootstrap.lock"
AHEAD_RECORD = "made-ahead.json"
#: The suffix of the lock object the S3 backend writes next to the state (``use_lockfile``).
LOCK_SUFFIX = ".tflock"
_TIMEOUT = re.compile(r"^\d+(ms|s|m|h)$")


# --- the backend config file ----------------------------------------------------------------------------------

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
        where = {"parameter": "the file given", "operator": "the operator's file",
                 "generated": "generated for the emulator"}[self.origin]
        return f"s3://{self.bucket}/{self.key} ({self.region}) — {self.path} ({where})"

    def as_row(self) -> dict:
        return {"file": str(self.path), "origin": self.origin, "bucket": self.bucket, "key": self.key,
                "region": self.region, "endpoint": self.endpoint_url or "AWS", "lock": "use_lockfile"
                if self.uses_lockfile else ("dynamodb_table" if self.settings.get("dynamodb_table") else "none")}


def operator_file(environment: str) -> Path:
    """``infrastructure/<env>/backend.hcl``: the operator's backend config (may not exist)."""
    return paths.environment_dir(environment) / BACKEND_FILE


def example_file(environment: str) -> Path:
    return paths.environment_dir(environment) / EXAMPLE_FILE


def read_file(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The settings of a backend config file (HCL attributes) and the line each is written on."""
    import hcl2

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(path, "file not found") from None
    except IsADirectoryError:
        raise ConfigurationError(path, "is a directory, not a backend config file") from None
    try:
        values = hcl2.loads(text)
    except Exception as exc:  # lark's parse errors carry a line
        raise ConfigurationError(path, f"cannot parse: {str(exc).splitlines()[0]}", getattr(exc, "line", None)) \
            from None
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if match:
            lines.setdefault(match.group(1), number)
    return {name: _plain(value) for name, value in values.items()}, lines


def _plain(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    return value


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
    for name, what in (("bucket", "the state bucket's name (the one infrastructure/bootstrap created)"),
                       ("key", f"this environment's state object, e.g. {default_key(environment)!r}")):
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            if name in lines:
                raise ConfigurationError(path, f"`{name}` is empty: set it to {what}", lines[name])
            raise ConfigurationError(path, f"`{name}` is missing: add `{name} = \"…\"`, {what} "
                                     f"(see {example_file(environment).name})")
    if values.get("use_lockfile") is not True and not values.get("dynamodb_table"):
        raise ConfigurationError(path, "locking is off: set `use_lockfile = true` (Terraform ≥ 1.10 locks the state "
                                 "with a lock object next to it); without a lock two runs can write the state at once",
                                 lines.get("use_lockfile"))
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
                raise ConfigurationError(path, f"key {key!r} in bucket {bucket!r} is also {other}'s state "
                                         f"({other_file}:{their_lines.get('key')}): each environment needs its own "
                                         f"key, e.g. {default_key(environment)!r}", line)
        elif key == default_key(other):
            raise ConfigurationError(path, f"key {key!r} is {other}'s state key ({example_file(other)}): each "
                                     f"environment needs its own, e.g. {default_key(environment)!r}", line)


def _check_bucket_exists(config: BackendConfig, target: Target, line: int | None) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3_client(target, config.endpoint_url).head_bucket(Bucket=config.bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise ConfigurationError(config.path, f"bucket {config.bucket!r} does not exist ({target.label}): create "
                                     f"it once per account with `{bootstrap_command(config.bucket, config.region)}`, "
                                     "or correct the name", line) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise ConfigurationError(config.path, f"bucket {config.bucket!r} exists but these credentials may not "
                                     "use it (403): check the bucket name, or grant s3:ListBucket, s3:GetObject, "
                                     "s3:PutObject and s3:DeleteObject on it", line) from None
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


def resolve(workspace: "Workspace", target: Target, *, key: str | None = None, path: str | Path | None = None,
            check_bucket_exists: bool = True) -> BackendConfig:
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
            raise ConfigurationError(file, f"missing: the S3 backend needs this environment's backend config. Copy "
                                     f"{EXAMPLE_FILE} to {BACKEND_FILE} beside it and set `bucket` to the state bucket "
                                     f"(create it once with `{bootstrap_command('<bucket>', target.region)}`)")
        config = validate(file, environment, target if check_bucket_exists else None)
    else:
        the_key = key or default_key(environment)
        file = workspace.base / GENERATED_FILE
        file.parent.mkdir(parents=True, exist_ok=True)
        text = generated_text(EMULATOR_BUCKET, the_key, target.region, target.endpoint_url)
        if not file.is_file() or file.read_text() != text:
            file.write_text(text)
        values, _ = read_file(file)
        return BackendConfig(file, "generated", EMULATOR_BUCKET, the_key, target.region, target.endpoint_url,
                             settings=values)
    if key and key != config.key:
        config = BackendConfig(config.path, config.origin, config.bucket, key, config.region, config.endpoint_url,
                               key_override=True, settings=config.settings)
    return config


# --- the bucket -------------------------------------------------------------------------------------------------

def s3_client(target: Target, endpoint_url: str | None = None):
    """An S3 client on the target (path-style on an emulator: its host name is an IP address)."""
    from botocore.config import Config

    if endpoint_url and endpoint_url != target.endpoint_url:
        return target.session.client("s3", endpoint_url=endpoint_url, config=Config(s3={"addressing_style": "path"}))
    return target.client("s3", Config(s3={"addressing_style": "path"}) if target.is_emulator else None)


def bootstrap_command(bucket: str, region: str) -> str:
    """What an operator runs once per account to create the state bucket (from the repository root)."""
    return (f"terraform -chdir=infrastructure/bootstrap init && terraform -chdir=infrastructure/bootstrap apply "
            f"-var bucket_name={shlex.quote(bucket)} -var region={shlex.quote(region)}")


def _error_code(error) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__))


def check_bucket(target: Target, bucket: str, region: str | None = None) -> list[Check]:
    """The state bucket as S3 reports it: exists, versioning on, encrypted, not public, TLS only — each with its fix."""
    from botocore.exceptions import ClientError

    s3 = s3_client(target)
    region = region or target.region
    name = f"state bucket {bucket}"
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = _error_code(error)
        missing = code in ("404", "NoSuchBucket", "NotFound")
        detail = "does not exist" if missing else f"not accessible ({code})"
        fix = (f"create it once per account: {bootstrap_command(bucket, region)}" if missing
               else "check the name in backend.hcl and that these credentials may use the bucket")
        return [Check(name, False, f"{detail} on {target.label}", fix)]
    checks = [Check(name, True, f"exists on {target.label}")]

    status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    checks.append(Check("state bucket versioning", status == "Enabled", status,
                        "" if status == "Enabled" else f"aws s3api put-bucket-versioning --bucket {bucket} "
                        "--versioning-configuration Status=Enabled  (every earlier state stays recoverable)"))

    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        algorithms = sorted({r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules
                             if "ApplyServerSideEncryptionByDefault" in r})
        checks.append(Check("state bucket encryption", bool(algorithms), ", ".join(algorithms) or "no default rule",
                            "" if algorithms else _encryption_fix(bucket)))
    except ClientError as error:
        checks.append(Check("state bucket encryption", False, f"no default encryption ({_error_code(error)})",
                            _encryption_fix(bucket)))

    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        off = sorted(flag for flag, value in block.items() if not value)
    except ClientError:
        off = ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]
    checks.append(Check("state bucket not public", not off,
                        "public access blocked (all four settings)" if not off else f"not blocked: {', '.join(off)}",
                        "" if not off else f"aws s3api put-public-access-block --bucket {bucket} "
                        "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
                        "BlockPublicPolicy=true,RestrictPublicBuckets=true"))

    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        policy = {}
    tls_only = any(s.get("Effect") == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition", {}))
                   for s in _statements(policy))
    if target.is_emulator and not tls_only:
        checks.append(Check("state bucket TLS only", True, "not required on an emulator served over plain HTTP"))
    else:
        checks.append(Check("state bucket TLS only", tls_only,
                            "a bucket policy denies requests without TLS" if tls_only
                            else "no policy denies plain HTTP",
                            "" if tls_only else "apply infrastructure/bootstrap (its bucket policy denies "
                            "aws:SecureTransport = false)"))
    return checks


def _statements(policy: dict) -> list[dict]:
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _encryption_fix(bucket: str) -> str:
    return (f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
            "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"}}]}'")


def bucket_exists(target: Target, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3_client(target).head_bucket(Bucket=bucket)
        return True
    except ClientError as error:
        if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise


@dataclass
class BootstrapResult:
    bucket: str
    created: bool  # False: it existed already (or was not created: see ``command``)
    detail: str
    command: str = ""  # against AWS, unasked: what to run
    outputs: dict = field(default_factory=dict)

    def as_check(self) -> Check:
        ok = self.created or not self.command
        return Check(f"state bucket {self.bucket}", ok, self.detail, "" if ok else self.command)


def ensure_bucket(target: Target, bucket: str, work_dir: Path, *, create: bool = False, binary=None) -> BootstrapResult:
    """The state bucket exists afterwards — on an emulator always, against AWS only with ``create=True``.

    Creating it means running ``infrastructure/bootstrap`` with Terraform in ``work_dir/bootstrap`` (its local
    state is kept there). Against AWS without ``create`` nothing is changed and the command to run is returned.
    Whenever it may create the bucket, a bootstrap already in flight (``runbook run`` starts one for its own
    emulator: :mod:`runbook.bucket_ahead`; another environment's 01) ends first: its lock is taken before the
    bucket is looked for, so the bucket is never seen half made.
    """
    base = Path(work_dir) / BOOTSTRAP_DIR
    with bootstrap_lock(base) if target.is_emulator or create else nullcontext():
        if bucket_exists(target, bucket):
            ahead = made_ahead(base, target, bucket)
            if ahead is None:
                return BootstrapResult(bucket, False, f"exists on {target.label}")
            return _created(target, bucket, work_dir, ahead, "as this run started")
        if not target.is_emulator and not create:
            return BootstrapResult(bucket, False, f"does not exist on {target.label}; the runbook does not create "
                                   "it unasked", command=bootstrap_command(bucket, target.region))
        return _created(target, bucket, work_dir, _bootstrap(target, bucket, base, binary))


def _created(target: Target, bucket: str, work_dir: Path, outputs: dict, when: str = "") -> BootstrapResult:
    by = " ".join(filter(None, ["infrastructure/bootstrap", when]))
    return BootstrapResult(bucket, True, f"created on {target.label} by {by} (Terraform, local state in "
                           f"{Path(work_dir) / BOOTSTRAP_DIR})", outputs=outputs)


@contextmanager
def bootstrap_lock(base: Path, held: int | None = None) -> Iterator[None]:
    """The bootstrap's lock in ``base`` (``runbook run --env all`` may bootstrap twice at once; ``runbook run``
    starts one ahead of its notebooks). ``held``: a descriptor of the lock file already locked (handed over by
    the process that took it); released when this ends."""
    if held is not None:
        with os.fdopen(held, "w"):
            yield
        return
    base.mkdir(parents=True, exist_ok=True)
    with open(base / BOOTSTRAP_LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def bootstrap(target: Target, bucket: str, work_dir: Path, binary=None, *, held: int | None = None,
              ahead: bool = False) -> dict:
    """Run ``infrastructure/bootstrap`` (init + apply) with real Terraform in ``work_dir/bootstrap``; its outputs.

    Serialised with :func:`bootstrap_lock` (``held``: already taken); the second caller finds the bucket and does
    nothing. ``ahead``: ``runbook run`` bootstraps its own emulator before its first notebook; the record it
    leaves (:data:`AHEAD_RECORD`) lets that notebook say so (:func:`made_ahead`).
    """
    base = Path(work_dir) / BOOTSTRAP_DIR
    with bootstrap_lock(base, held):
        if bucket_exists(target, bucket):
            return {"bucket": bucket}
        outputs = _bootstrap(target, bucket, base, binary)
        if ahead:
            record = {"bucket": bucket, "endpoint_url": target.endpoint_url, "run": os.environ.get(RUN_VARIABLE, ""),
                      "outputs": outputs}
            (base / AHEAD_RECORD).write_text(json.dumps(record))
        return outputs


def _bootstrap(target: Target, bucket: str, base: Path, binary=None) -> dict:
    """The bootstrap itself, under its lock."""
    from .terraform import Terraform, Workspace

    (base / AHEAD_RECORD).unlink(missing_ok=True)  # a record of an earlier run's emulator
    terraform = Terraform(Workspace(BOOTSTRAP_DIR, base), target, binary)
    terraform.prepare()
    terraform.run("init", "-input=false", "-no-color")
    terraform.apply(*bootstrap_variables(target, bucket))
    return terraform.output()  # as the apply reported them


def bootstrap_variables(target: Target, bucket: str) -> list[str]:
    """The bootstrap's ``-var`` arguments for ``bucket`` on ``target``."""
    variables = ["-var", f"bucket_name={bucket}", "-var", f"region={target.region}"]
    if target.is_emulator and urlparse_scheme(target.endpoint_url) == "http":
        # A TLS-only policy denies every plain-HTTP request, the emulator's included.
        variables += ["-var", "require_tls=false"]
    return variables


def made_ahead(base: Path, target: Target, bucket: str) -> dict | None:
    """The outputs of the bootstrap this run made of ``bucket`` on this emulator before its first notebook, if
    it did (:data:`AHEAD_RECORD`, written by :func:`bootstrap`); else ``None``."""
    run = os.environ.get(RUN_VARIABLE, "")
    try:
        record = json.loads((base / AHEAD_RECORD).read_text())
    except (OSError, ValueError):
        return None
    if not run or not isinstance(record, dict) or (record.get("bucket"), record.get("endpoint_url"),
                                                   record.get("run")) != (bucket, target.endpoint_url, run):
        return None
    return record.get("outputs") or {}


def urlparse_scheme(url: str | None) -> str:
    from urllib.parse import urlparse

    return urlparse(url or "").scheme


# --- 01-setup: everything about the backend, as a checklist ---------------------------------------------------

def preflight_checks(workspace: "Workspace", target: Target, *, create_bucket: bool = False,
                     key: str | None = None, path: str | Path | None = None, binary=None) -> list[Check]:
    """01's backend checks: the backend config, the bucket (bootstrapped on an emulator), its properties, the lock.

    Against AWS the bucket is created only with ``create_bucket=True``; otherwise a missing bucket is a failed
    check whose fix is the bootstrap command. Never raises for a bad backend config: it becomes a failed check.
    """
    checks, config = bucket_checks(workspace, target, create_bucket=create_bucket, key=key, path=path,
                                   binary=binary)
    return checks + (settings_checks(target, config) if config is not None else [])


def bucket_checks(workspace: "Workspace", target: Target, *, create_bucket: bool = False, key: str | None = None,
                  path: str | Path | None = None, binary=None) -> tuple[list[Check], BackendConfig | None]:
    """:func:`preflight_checks`' first part: the backend config and the bucket (bootstrapped on an emulator). Also
    returns the config once the bucket exists (``terraform init`` can run), else ``None``."""
    try:
        config = resolve(workspace, target, key=key, path=path, check_bucket_exists=False)
    except ConfigurationError as error:
        return [Check("backend config", False, str(error), f"edit {error.path}" + (f" line {error.line}"
                                                                                   if error.line else ""))], None
    checks = [Check("backend config", True, config.describe())]
    try:
        ensured = ensure_bucket(target, config.bucket, workspace.base.parent, create=create_bucket, binary=binary)
    except Exception as error:  # credentials, permissions, Terraform: report, do not guess
        return checks + [Check(f"state bucket {config.bucket}", False, f"{type(error).__name__}: {error}",
                               "check the credentials and the bucket name")], None
    checks.append(ensured.as_check())  # created now, already there, or (AWS, unasked) the command to create it
    return checks, (None if ensured.command else config)


def settings_checks(target: Target, config: BackendConfig) -> list[Check]:
    """:func:`preflight_checks`' second part, on a bucket that exists: its settings, and whether the lock holds.
    Safe beside ``terraform init`` and ``plan``: its probe objects are keys of their own."""
    return check_bucket(target, config.bucket, config.region) + [
        probe_conditional_writes(target, config.bucket, config.endpoint_url, prefix=config.key + ".")]


def init_report(terraform: "Terraform") -> str:
    """After :meth:`Terraform.init`: where the state is, how it is locked, and a migration if one happened
    (Markdown)."""
    config = terraform.backend
    if config is None:
        return "No backend: `terraform init` has not run with one."
    note = key_note(terraform.workspace.environment, config)
    lines = [f"State: `s3://{config.bucket}/{config.key}` ({config.region}){' — ' + note if note else ''}, backend "
             f"config `{config.path}` ({config.origin}); lock: {config.as_row()['lock']}, "
             f"`-lock-timeout={lock_timeout(terraform.lock_timeout)}`."]
    if terraform.migration is not None:
        lines.append(f"**Migrated.** {terraform.migration.message}")
    return "\n\n".join(lines)


# --- conditional writes -----------------------------------------------------------------------------------------

def probe_conditional_writes(target: Target, bucket: str, endpoint_url: str | None = None,
                             prefix: str = "runbook-probe/") -> Check:
    """Does the endpoint refuse a second ``PutObject`` with ``If-None-Match: *``? Only then does the lock hold.

    Writes a probe object (``<prefix>conditional-write-<uuid>``) twice and removes every version of it afterwards.
    01 passes the state key as the prefix, so the probe needs no permission beyond what the state needs.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = s3_client(target, endpoint_url)
    key = f"{prefix}conditional-write-{uuid.uuid4()}"
    name = "state lock (conditional writes)"
    where = endpoint_url or target.endpoint_url or "AWS S3"
    try:
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
        except (ClientError, BotoCoreError) as error:
            return Check(name, False, f"could not write a probe object to {bucket} at {where}: {error}",
                         "check the bucket and the credentials, then probe again")
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 412 or _error_code(error) == "PreconditionFailed":
                return Check(name, True, f"{where} refused the second If-None-Match: * write (HTTP 412): the S3 "
                             "backend's lock object holds")
            return Check(name, False, f"not safe: {where} answered the second If-None-Match: * write with "
                         f"{status} {_error_code(error)} instead of 412", _unsafe_fix())
        except BotoCoreError as error:
            return Check(name, False, f"not safe: the second conditional write failed oddly: {error}", _unsafe_fix())
        return Check(name, False, f"not safe: {where} accepted a second If-None-Match: * write to the same key, so "
                     "two runs could both take the state lock", _unsafe_fix())
    finally:
        _remove_probe(s3, bucket, key)


def _unsafe_fix() -> str:
    return ("use an S3 endpoint that supports conditional writes (AWS S3 does; so do moto ≥ 5.0.x and recent "
            "LocalStack), and do not run two Terraform commands on this environment at once until then")


def _remove_probe(s3, bucket: str, key: str) -> None:
    try:
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        if not versions.get("Versions") and not versions.get("DeleteMarkers"):
            s3.delete_object(Bucket=bucket, Key=key)
    except Exception:  # an endpoint that does not list versions: remove the current object at least
        try:
            s3.delete_object(Bucket=bucket, Key=key)
        except Exception:
            pass


# --- the state lock ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LockInfo:
    """Terraform's lock info: the lock object's JSON, or the "Lock Info:" block of its error message."""

    id: str
    who: str = ""
    operation: str = ""
    created: str = ""
    path: str = ""
    version: str = ""
    info: str = ""

    @classmethod
    def from_json(cls, raw: dict) -> "LockInfo":
        return cls(id=raw.get("ID", ""), who=raw.get("Who", ""), operation=raw.get("Operation", ""),
                   created=raw.get("Created", ""), path=raw.get("Path", ""), version=raw.get("Version", ""),
                   info=raw.get("Info", ""))

    @property
    def created_at(self) -> datetime | None:
        text = self.created.strip()
        if not text:
            return None
        text = re.sub(r"\s+UTC$", "", text)
        text = re.sub(r"(\.\d{6})\d*", r"\1", text)  # Go's nanoseconds → microseconds
        for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z"):
            try:
                return datetime.strptime(text.replace("Z", "+0000"), fmt)
            except ValueError:
                continue
        return None

    def age(self, now: datetime | None = None) -> str:
        created = self.created_at
        if created is None:
            return "unknown"
        seconds = max(0, int(((now or datetime.now(timezone.utc)) - created).total_seconds()))
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours >= 48:
            return f"{hours // 24} days {hours % 24}h"
        return f"{hours}h {minutes:02d}m" if hours else (f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s")

    @property
    def operation_label(self) -> str:
        return self.operation.removeprefix("OperationType").lower() or "unknown"


_LOCK_FIELDS = {"ID": "id", "Path": "path", "Operation": "operation", "Who": "who", "Version": "version",
                "Created": "created", "Info": "info"}


def parse_lock_info(text: str) -> LockInfo | None:
    """The "Lock Info:" block of Terraform's "Error acquiring the state lock" (plain or ``-json`` output)."""
    from .terraform import ui_messages

    texts = [text]
    for message in ui_messages(text):
        diagnostic = message.get("diagnostic") or {}
        texts.append(diagnostic.get("detail", ""))
    for candidate in texts:
        if "Lock Info:" not in candidate:
            continue
        block = candidate.split("Lock Info:", 1)[1]
        found: dict[str, str] = {}
        for line in block.splitlines():
            match = re.match(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):[ \t]*(.*)$", line)
            if match:
                found.setdefault(_LOCK_FIELDS[match.group(1)], match.group(2).strip())
            elif found and not line.strip():
                break
        if found.get("id"):
            return LockInfo(**found)
    return None


def read_lock(target: Target, config: BackendConfig) -> LockInfo | None:
    """The lock object next to the state (``<key>.tflock``), if one is there: who holds the lock now."""
    from botocore.exceptions import ClientError

    try:
        body = s3_client(target, config.endpoint_url).get_object(Bucket=config.bucket, Key=config.lock_key)["Body"]
    except ClientError as error:
        if _error_code(error) in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
            return None
        raise
    raw = body.read()
    try:
        return LockInfo.from_json(json.loads(raw))
    except ValueError:
        return LockInfo(id="", info=f"unreadable lock object ({len(raw)} bytes)")


def force_unlock_command(terraform: "Terraform", lock_id: str) -> str:
    """The exact command that releases the lock, for the operator to run once the holder is known to be gone."""
    prefix = ""
    if terraform.target.is_emulator:
        from .emulator import DUMMY_CREDENTIALS

        prefix = " ".join(f"{k}={v}" for k, v in DUMMY_CREDENTIALS.items()) + " "
    return (f"{prefix}terraform -chdir={shlex.quote(str(terraform.workspace.root))} force-unlock -force "
            f"{shlex.quote(lock_id)}")


def lock_error(terraform: "Terraform", text: str, args: list[str] | None = None) -> StateLocked:
    """The typed error for a failed lock: holder, since when, operation (Terraform's lock info, else the object)."""
    info = parse_lock_info(text)
    config = terraform.backend
    if (info is None or not info.who) and config is not None:
        try:
            info = read_lock(terraform.target, config) or info
        except Exception:
            pass
    info = info or LockInfo(id="")
    state = info.path or (f"{config.bucket}/{config.key}" if config else terraform.workspace.environment)
    command = force_unlock_command(terraform, info.id) if info.id else ""
    return StateLocked(lock_id=info.id, who=info.who, created=info.created, operation=info.operation_label,
                       state=state, age=info.age(), version=info.version, command=command,
                       command_args=list(args or []))


def lock_check(terraform: "Terraform", config: BackendConfig | None = None) -> Check:
    """04's diagnosis: is the environment's state locked now? By whom, since when, and how to release it."""
    config = config or terraform.backend or resolve(terraform.workspace, terraform.target, key=terraform.state_key,
                                                    check_bucket_exists=False)
    try:
        info = read_lock(terraform.target, config)
    except Exception as error:  # no bucket, no credentials: say so, do not guess
        return Check("state lock", False, f"cannot read s3://{config.bucket}/{config.lock_key}: {error}",
                     "check the backend config and the credentials")
    if info is None:
        return Check("state lock", True, f"not locked (no s3://{config.bucket}/{config.lock_key})")
    detail = (f"locked by {info.who or 'unknown'} since {info.created or 'unknown'} ({info.age()} ago) for "
              f"{info.operation_label}, lock ID {info.id or 'unknown'}")
    fix = ("if that run is still going, wait for it; once you have checked it is gone (the process, the CI job, the "
           "colleague), release the lock: " + (force_unlock_command(terraform, info.id) if info.id else
                                               f"delete s3://{config.bucket}/{config.lock_key}"))
    return Check("state lock", False, detail, fix)


def discard_scratch_state(terraform: "Terraform") -> bool:
    """Delete a scratch workspace's state object (the import demo's, before it starts again). Emulator only.

    Refuses the environment's own key and real AWS. Returns whether there was a state to delete.
    """
    from .errors import RealAwsRefused

    if not terraform.target.is_emulator:
        raise RealAwsRefused("a scratch state is discarded only on an emulator")
    config = terraform.backend or resolve(terraform.workspace, terraform.target, key=terraform.state_key,
                                          check_bucket_exists=False)
    if config.key == default_key(terraform.workspace.environment):
        raise ConfigurationError(config.path, f"{config.key} is the {terraform.workspace.environment} environment's "
                                 "state, not a scratch one: not deleted")
    if not bucket_exists(terraform.target, config.bucket) or not state_exists(terraform.target, config):
        return False
    s3_client(terraform.target, config.endpoint_url).delete_object(Bucket=config.bucket, Key=config.key)
    return True


def force_unlock(terraform: "Terraform", lock_id: str):
    """Run ``terraform force-unlock -force ID`` in the workspace (what :func:`force_unlock_command` prints)."""
    return terraform.run("force-unlock", "-force", lock_id)


def lock_timeout(value: str | None = None) -> str:
    """The ``-lock-timeout`` Terraform commands wait for a held lock: ``value``, ``RUNBOOK_LOCK_TIMEOUT`` or 10s."""
    from .errors import ParameterError

    chosen = value or os.environ.get(LOCK_TIMEOUT_VARIABLE) or DEFAULT_LOCK_TIMEOUT
    if not _TIMEOUT.match(chosen):
        raise ParameterError("lock_timeout" if value else LOCK_TIMEOUT_VARIABLE, chosen,
                             "a duration such as '0s', '10s' or '2m'")
    return chosen


# --- migration from local state ---------------------------------------------------------------------------------

@dataclass
class Migration:
    """A local ``terraform.tfstate`` moved into the backend by ``terraform init -migrate-state``."""

    source: Path
    backup: Path
    destination: str
    resources: int
    serial: int
    lineage: str

    @property
    def message(self) -> str:
        return (f"Moved the local state {self.source} ({self.resources} resources, serial {self.serial}) into the "
                f"backend at {self.destination} with `terraform init -migrate-state`; a copy of the old file is kept "
                f"at {self.backup}.")


def local_state(root: Path) -> dict | None:
    """The local state a root holds from before the backend (``terraform.tfstate`` with content), or None."""
    path = Path(root) / "terraform.tfstate"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    try:
        state = json.loads(text)
    except ValueError:
        raise ConfigurationError(path, "is not a Terraform state (not JSON); move it aside before init") from None
    return state


def recorded_backend(root: Path) -> dict | None:
    """The backend ``terraform init`` last configured in ``root`` (``.terraform/terraform.tfstate``), if any."""
    try:
        return json.loads((Path(root) / ".terraform" / "terraform.tfstate").read_text()).get("backend")
    except (FileNotFoundError, ValueError):
        return None


def state_object(target: Target, config: BackendConfig) -> bytes | None:
    """The bytes of the state object in the bucket (the default workspace's: ``config.key``), or None when there is
    none yet."""
    from botocore.exceptions import ClientError

    try:
        return s3_client(target, config.endpoint_url).get_object(Bucket=config.bucket, Key=config.key)["Body"].read()
    except ClientError as error:
        if _error_code(error) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise


def remote_state(target: Target, config: BackendConfig) -> dict | None:
    """The state object in the bucket (parsed), or None when there is none yet."""
    body = state_object(target, config)
    try:
        return json.loads(body) if body and body.strip() else None
    except ValueError:
        return None


def state_exists(target: Target, config: BackendConfig) -> bool:
    """Whether the state object exists in the bucket (no Terraform run needed to say "empty")."""
    from botocore.exceptions import ClientError

    try:
        s3_client(target, config.endpoint_url).head_object(Bucket=config.bucket, Key=config.key)
    except ClientError as error:
        if _error_code(error) in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
            return False
        raise
    return True


def check_migration(terraform: "Terraform", config: BackendConfig, state: dict) -> None:
    """Refuse to migrate onto a non-empty state in the backend: force-copy would overwrite it. Nothing changes."""
    existing = remote_state(terraform.target, config)
    if existing and existing.get("resources"):
        if existing.get("resources") == state.get("resources"):
            return  # the same state, already moved (e.g. a migration interrupted before the local file was renamed)
        source = terraform.workspace.root / "terraform.tfstate"
        raise ConfigurationError(source, f"a local state ({len(state.get('resources', []))} resources) and a "
                                 f"different state in the backend (s3://{config.bucket}/{config.key}, "
                                 f"{len(existing['resources'])} resources) both exist: the runbook will not overwrite "
                                 "either. Decide which is right: keep the backend's (move this file aside) or push "
                                 "this one (`terraform state push` after reviewing both)")


def finish_migration(terraform: "Terraform", config: BackendConfig, state: dict) -> Migration:
    """After ``init -migrate-state``: check the backend holds the state, then retire the local file (kept as a copy)."""
    root = terraform.workspace.root
    moved = remote_state(terraform.target, config)
    # Terraform gives the copy a new lineage and serial; the resources must be the same, every attribute.
    if not moved or moved.get("resources") != state.get("resources") or moved.get("outputs") != state.get("outputs"):
        raise TerraformError(["init", "-migrate-state"], 0, f"the state in s3://{config.bucket}/{config.key} does not "
                             f"match {root / 'terraform.tfstate'} after the migration; the local file is left as it "
                             "was")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = root / f"terraform.tfstate.pre-backend-{stamp}"
    source = root / "terraform.tfstate"
    backup.write_text(json.dumps(state, indent=2) + "\n")  # Terraform empties terraform.tfstate
    if source.is_file():
        source.unlink()
    return Migration(source, backup, f"s3://{config.bucket}/{config.key}", len(state.get("resources", [])),
                     int(state.get("serial", 0)), state.get("lineage", ""))
