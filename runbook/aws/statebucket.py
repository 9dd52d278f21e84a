"""The S3 state bucket as S3 reports it: its settings, whether the lock holds there, the lock and state objects.

AWS layer: imports the base layer and :mod:`runbook.aws.target` only (a backend config is passed in, duck-typed:
``bucket``, ``key``, ``lock_key``, ``endpoint_url``). What Terraform makes of the bucket (the backend config, its
bootstrap, its lock errors) is :mod:`runbook.terraform.command`'s.
"""

from __future__ import annotations

import json
import re
import shlex
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from runbook.aws.target import Target
from runbook.checks import Check

if TYPE_CHECKING:  # pragma: no cover
    from runbook.terraform.backend import BackendConfig


#: S3 on an emulator: path-style addressing (its host name is an IP address).
PATH_STYLE = Config(s3={"addressing_style": "path"})


def s3_client(target: Target, endpoint_url: str | None = None):
    """An S3 client on the target (path-style on an emulator: :data:`PATH_STYLE`)."""
    if endpoint_url and endpoint_url != target.endpoint_url:
        return target.session.client("s3", endpoint_url=endpoint_url, config=PATH_STYLE)
    return target.client("s3", PATH_STYLE if target.is_emulator else None)


def bootstrap_command(bucket: str, region: str) -> str:
    """What an operator runs once per account to create the state bucket (from the repository root)."""
    return (
        f"terraform -chdir=infrastructure/bootstrap init && terraform -chdir=infrastructure/bootstrap apply "
        f"-var bucket_name={shlex.quote(bucket)} -var region={shlex.quote(region)}"
    )


def _error_code(error) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__))


def check_bucket(target: Target, bucket: str, region: str | None = None) -> list[Check]:
    """The state bucket as S3 reports it: exists, versioning on, encrypted, not public, TLS only — each with its fix."""

    s3 = s3_client(target)
    region = region or target.region
    name = f"state bucket {bucket}"
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = _error_code(error)
        missing = code in ("404", "NoSuchBucket", "NotFound")
        detail = "does not exist" if missing else f"not accessible ({code})"
        fix = (
            f"create it once per account: {bootstrap_command(bucket, region)}"
            if missing
            else "check the name in backend.hcl and that these credentials may use the bucket"
        )
        return [Check(name, False, f"{detail} on {target.label}", fix)]
    checks = [Check(name, True, f"exists on {target.label}")]

    status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    checks.append(
        Check(
            "state bucket versioning",
            status == "Enabled",
            status,
            ""
            if status == "Enabled"
            else f"aws s3api put-bucket-versioning --bucket {bucket} "
            "--versioning-configuration Status=Enabled  (every earlier state stays recoverable)",
        )
    )

    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        algorithms = sorted(
            {
                r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
                for r in rules
                if "ApplyServerSideEncryptionByDefault" in r
            }
        )
        checks.append(
            Check(
                "state bucket encryption",
                bool(algorithms),
                ", ".join(algorithms) or "no default rule",
                "" if algorithms else _encryption_fix(bucket),
            )
        )
    except ClientError as error:
        checks.append(
            Check(
                "state bucket encryption",
                False,
                f"no default encryption ({_error_code(error)})",
                _encryption_fix(bucket),
            )
        )

    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        off = sorted(flag for flag, value in block.items() if not value)
    except ClientError:
        off = ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]
    checks.append(
        Check(
            "state bucket not public",
            not off,
            "public access blocked (all four settings)" if not off else f"not blocked: {', '.join(off)}",
            ""
            if not off
            else f"aws s3api put-public-access-block --bucket {bucket} "
            "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
            "BlockPublicPolicy=true,RestrictPublicBuckets=true",
        )
    )

    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        policy = {}
    tls_only = any(
        s.get("Effect") == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition", {}))
        for s in _statements(policy)
    )
    if target.is_emulator and not tls_only:
        checks.append(Check("state bucket TLS only", True, "not required on an emulator served over plain HTTP"))
    else:
        checks.append(
            Check(
                "state bucket TLS only",
                tls_only,
                "a bucket policy denies requests without TLS" if tls_only else "no policy denies plain HTTP",
                ""
                if tls_only
                else "apply infrastructure/bootstrap (its bucket policy denies aws:SecureTransport = false)",
            )
        )
    return checks


def _statements(policy: dict) -> list[dict]:
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _encryption_fix(bucket: str) -> str:
    return (
        f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
        '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}\''
    )


def bucket_exists(target: Target, bucket: str) -> bool:

    try:
        s3_client(target).head_bucket(Bucket=bucket)
        return True
    except ClientError as error:
        if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise


# --- conditional writes -----------------------------------------------------------------------------------------


def probe_conditional_writes(
    target: Target, bucket: str, endpoint_url: str | None = None, prefix: str = "runbook-probe/"
) -> Check:
    """Does the endpoint refuse a second ``PutObject`` with ``If-None-Match: *``? Only then does the lock hold.

    Writes a probe object (``<prefix>conditional-write-<uuid>``) twice and removes every version of it afterwards.
    01 passes the state key as the prefix, so the probe needs no permission beyond what the state needs.
    """

    s3 = s3_client(target, endpoint_url)
    key = f"{prefix}conditional-write-{uuid.uuid4()}"
    name = "state lock (conditional writes)"
    where = endpoint_url or target.endpoint_url or "AWS S3"
    try:
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
        except (ClientError, BotoCoreError) as error:
            return Check(
                name,
                False,
                f"could not write a probe object to {bucket} at {where}: {error}",
                "check the bucket and the credentials, then probe again",
            )
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 412 or _error_code(error) == "PreconditionFailed":
                return Check(
                    name,
                    True,
                    f"{where} refused the second If-None-Match: * write (HTTP 412): the S3 backend's lock object holds",
                )
            return Check(
                name,
                False,
                f"not safe: {where} answered the second If-None-Match: * write with "
                f"{status} {_error_code(error)} instead of 412",
                _unsafe_fix(),
            )
        except BotoCoreError as error:
            return Check(name, False, f"not safe: the second conditional write failed oddly: {error}", _unsafe_fix())
        return Check(
            name,
            False,
            f"not safe: {where} accepted a second If-None-Match: * write to the same key, so "
            "two runs could both take the state lock",
            _unsafe_fix(),
        )
    finally:
        _remove_probe(s3, bucket, key)


def _unsafe_fix() -> str:
    return (
        "use an S3 endpoint that supports conditional writes (AWS S3 does; so do moto ≥ 5.0.x and recent "
        "LocalStack), and do not run two Terraform commands on this environment at once until then"
    )


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


# --- the lock and state objects ---------------------------------------------------------------------------------


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
        return cls(
            id=raw.get("ID", ""),
            who=raw.get("Who", ""),
            operation=raw.get("Operation", ""),
            created=raw.get("Created", ""),
            path=raw.get("Path", ""),
            version=raw.get("Version", ""),
            info=raw.get("Info", ""),
        )

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


def read_lock(target: Target, config: BackendConfig) -> LockInfo | None:
    """The lock object next to the state (``<key>.tflock``), if one is there: who holds the lock now."""

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


def state_object(target: Target, config: BackendConfig) -> bytes | None:
    """The bytes of the state object in the bucket (the default workspace's: ``config.key``), or None when there is
    none yet."""

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

    try:
        s3_client(target, config.endpoint_url).head_object(Bucket=config.bucket, Key=config.key)
    except ClientError as error:
        if _error_code(error) in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
            return False
        raise
    return True
