"""The operator's working tfvars drives every step: 01 checks it, 02 applies it, `runbook drift` compares with it.

Real Terraform on the embedded emulator. One apply; the drift command then tells an unapplied edit of the tfvars
(pending, exit 3) from a change made with boto3 outside Terraform (drift, exit 1).
"""

from __future__ import annotations

import json
import re

import pytest

from runbook import cli, paths
from runbook.execution import runner
from runbook.execution.record import read_records
from runbook.steps import preflight

pytestmark = [pytest.mark.notebooks, pytest.mark.terraform]
TABLE = "staging-user-notifications"


def _provider_or_skip():
    from runbook.terraform.binary import find_mirror

    if find_mirror() is None:
        import socket

        try:
            socket.create_connection(("registry.terraform.io", 443), timeout=2).close()
        except OSError:
            pytest.skip("the AWS provider cannot be installed here (no mirror, no registry access)")


def _drift(capsys, work, tfvars, endpoint) -> tuple[int, dict]:
    capsys.readouterr()
    code = cli.main(
        [
            "drift",
            "--env",
            "staging",
            "--work-dir",
            str(work),
            "--tfvars",
            str(tfvars),
            "--endpoint-url",
            endpoint,
            "--format",
            "json",
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def test_edited_tfvars_is_applied_and_compared(tmp_path, target, capsys):
    _provider_or_skip()
    work = tmp_path / "work"  # the base (work/staging), for the notebooks and --work-dir alike
    tfvars = tmp_path / "operator.tfvars"
    text, _ = preflight.emulator_ami(
        target, (paths.environment_dir("staging") / "terraform.tfvars.example").read_text()
    )
    tfvars.write_text(
        re.sub(r"(?m)^dynamodb_ttl_attribute_name\s*=.*$", 'dynamodb_ttl_attribute_name = "expires_at"', text)
    )
    parameters = {
        "environment": "staging",
        "aws_region": "us-east-1",
        "aws_endpoint_url": target.endpoint_url,
        "work_dir": str(work),
        "tfvars": str(tfvars),
    }
    out = tmp_path / "runs"
    out.mkdir()
    runner.execute_notebook(paths.NOTEBOOKS / "01-setup.ipynb", out / "01.ipynb", parameters)
    setup = read_records(out / "01.ipynb")
    assert setup["tfvars_path"] == str(tfvars) and setup["tfvars_origin"] == "parameter"
    assert setup["setup_ok"] is True
    assert tfvars.read_text().count("expires_at") == 1, "01 never writes the operator's file"

    runner.execute_notebook(
        paths.NOTEBOOKS / "02-plan-and-apply.ipynb", out / "02.ipynb", {**parameters, "apply": True}
    )
    applied = read_records(out / "02.ipynb")
    assert applied["tfvars_path"] == str(tfvars) and applied["applied"] is True
    assert len(applied["plan_sha256"]) == 64
    ttl = target.client("dynamodb").describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at", "02 applied the working tfvars, not the example"

    code, result = _drift(capsys, work, tfvars, target.endpoint_url)
    assert code == 0, result["rows"]
    assert result["tfvars"] == str(tfvars)

    tfvars.write_text(re.sub(r"(?m)^dynamodb_pitr_enabled\s*=.*$", "dynamodb_pitr_enabled = true", tfvars.read_text()))
    code, result = _drift(capsys, work, tfvars, target.endpoint_url)
    assert code == 3, result["rows"]
    assert any(
        r["status"] == "pending" and r["attribute"] == "point_in_time_recovery[0].enabled" for r in result["rows"]
    )

    target.client("dynamodb").update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"}
    )
    code, result = _drift(capsys, work, tfvars, target.endpoint_url)
    assert code == 1, result["rows"]
    drifted = [r for r in result["rows"] if r["status"] == "drift"]
    assert [(r["attribute"], r["configured"], r["live"]) for r in drifted] == [("ttl[0].enabled", "true", "false")]
