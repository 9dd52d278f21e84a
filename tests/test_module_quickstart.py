"""The configuration guide's Quick Start, literally, with plain Terraform (no runbook) in a copy of
``infrastructure/staging`` on the embedded emulator: Step 1 ``cp terraform.tfvars.example terraform.tfvars``,
Step 2 edit, Step 3 ``terraform init``, Step 4 ``terraform plan``, Step 5 ``terraform apply`` (answered ``yes``),
then ``terraform output``. Local state, no prompt for a backend; the committed lock file is left unchanged.

The provider is pointed at the emulator the way any user would: ``AWS_ENDPOINT_URL`` and dummy keys in the
environment. Only this machine's provider source (a filesystem mirror, when there is one) comes from the runbook's
CLI config. Skipped, with the reason, where the AWS provider cannot be installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from runbook import paths
from runbook.aws.target import DUMMY_CREDENTIALS

_INSTALL_FAILURES = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "could not connect to registry",
)
GUIDE_OUTPUTS = {
    "dynamodb_notifications_table_name",
    "dynamodb_notifications_table_arn",
    "dynamodb_notifications_stream_arn",
    "dynamodb_access_policy_arn",
}


@pytest.mark.terraform
def test_the_guides_quick_start_works_with_plain_terraform(tmp_path, target):
    from runbook.terraform.binary import Binary, cli_config_file

    terraform = Binary.find().command
    root = tmp_path / "infrastructure" / "staging"
    shutil.copytree(
        paths.INFRASTRUCTURE / "staging",
        root,
        ignore=shutil.ignore_patterns(".terraform", "terraform.tfvars", "*.tfstate*", "backend.tf", "backend.hcl"),
    )
    lock = (root / ".terraform.lock.hcl").read_bytes()
    env = {
        **os.environ,
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": target.endpoint_url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CHECKPOINT_DISABLE": "1",
        "TF_CLI_CONFIG_FILE": str(cli_config_file()),
    }
    env.pop("TF_INPUT", None)

    def tf(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [*terraform, *args, "-no-color"],
            cwd=root,
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=600,
        )

    # Step 1: the example as it is still holds the placeholders; Step 3 needs no backend and no answer.
    shutil.copy(root / "terraform.tfvars.example", root / "terraform.tfvars")
    init = tf("init")
    if init.returncode and any(marker in init.stdout + init.stderr for marker in _INSTALL_FAILURES):
        pytest.skip(f"the AWS provider cannot be installed here: {init.stderr.strip().splitlines()[-1:]}")
    assert init.returncode == 0, init.stdout + init.stderr
    assert (root / ".terraform.lock.hcl").read_bytes() == lock, "terraform init keeps the committed lock file"

    # Step 4 before Step 2: the placeholders fail the plan, naming each variable, and nothing is created.
    placeholders = tf("plan")
    assert placeholders.returncode == 1
    assert 'var.ami_id is "ami-xxxxx"' in placeholders.stderr
    assert 'var.key_name is "your-key-pair"' in placeholders.stderr
    assert not (root / "terraform.tfstate").exists()

    # Step 2: the operator's values (an image the emulator knows, a key pair name).
    ec2 = target.client("ec2")
    image = sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0]
    tfvars = root / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text().replace("ami-xxxxx", image).replace("your-key-pair", "ops-key"))

    plan = tf("plan")
    assert plan.returncode == 0 and "Plan:" in plan.stdout, plan.stdout + plan.stderr
    apply = tf("apply", stdin="yes\n")
    assert apply.returncode == 0 and "Apply complete!" in apply.stdout, apply.stdout[-3000:] + apply.stderr
    assert (root / "terraform.tfstate").is_file(), "local state, as the guide describes"

    outputs = json.loads(tf("output", "-json").stdout)
    assert GUIDE_OUTPUTS <= set(outputs)
    assert outputs["dynamodb_notifications_table_name"]["value"] == "staging-user-notifications"
    assert outputs["dynamodb_access_policy_arn"]["value"].endswith(":policy/staging-dynamodb-notifications-access")
    assert target.client("dynamodb").describe_table(TableName="staging-user-notifications")["Table"]
    assert (root / ".terraform.lock.hcl").read_bytes() == lock
