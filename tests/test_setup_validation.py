"""01 rejects every value the configuration's validation rules reject, reported on the tfvars line.

Driven by the modules' own failing cases, not a hand list: every ``run`` of the modules' ``terraform test`` suites
that expects a variable's validation to fail gives a bad value; the root ``main.tf`` says which root variable
(the tfvars name) feeds that module input. Terraform reports every failing validation of a plan at once, so the bad
values are batched into as few working tfvars as keep them independent (one value per variable per file; a rule
never sees another rule's bad value), and 01's check — Terraform itself, ``plan -refresh=false`` — must name each
root variable on its tfvars line. Real Terraform on the embedded emulator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runbook import paths, workconfig
from runbook.hcl import read as read_hcl
from runbook.steps import preflight, tfvarsverdict
from runbook.steps.context import open_context

pytestmark = pytest.mark.terraform
MODULES = paths.INFRASTRUCTURE / "staging" / "modules"
_REFERENCE = re.compile(r"^\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}$")


def root_inputs(environment: str) -> dict[tuple[str, str], str]:
    """``{(module directory, module input): root variable}`` for inputs the root passes a variable to directly."""
    found = {}
    for block in read_hcl(paths.environment_dir(environment) / "main.tf").get("module", []):
        for _, arguments in block.items():
            source = Path(arguments["source"]).name
            for name, value in arguments.items():
                match = _REFERENCE.match(value) if isinstance(value, str) else None
                if match:
                    found[(source, name)] = match.group(1)
    return found


def failing_runs() -> list[tuple[str, dict[str, object], set[str]]]:
    """``(module directory, the run's variables, the variables expected to fail)`` for every run that expects a
    variable's validation to fail."""
    runs = []
    for suite in sorted(MODULES.glob("*/tests/*.tftest.hcl")):
        module = suite.parent.parent.name
        for run in read_hcl(suite).get("run", []):
            for _, body in run.items():
                expected = {
                    re.sub(r"^\$\{|\}$", "", e).removeprefix("var.")
                    for e in body.get("expect_failures", [])
                    if str(e).lstrip("${").startswith("var.")
                }
                values = {}
                for block in (
                    body.get("variables", [])
                    if isinstance(body.get("variables"), list)
                    else [body.get("variables") or {}]
                ):
                    values.update(block)
                if expected & set(values):
                    runs.append((module, values, expected))
    return runs


def failing_cases() -> list[tuple[str, str, object]]:
    """``(module directory, input, bad value)`` from every run that expects a variable's validation to fail."""
    return [
        (module, name, value)
        for module, values, expected in failing_runs()
        for name, value in values.items()
        if name in expected
    ]


def root_variables_in(environment: str) -> dict[tuple[str, str], set[str]]:
    """``{(module directory, module input): root variables its argument refers to}``, directly or in an expression."""
    found: dict[tuple[str, str], set[str]] = {}
    for block in read_hcl(paths.environment_dir(environment) / "main.tf").get("module", []):
        for _, arguments in block.items():
            source = Path(arguments["source"]).name
            for name, value in arguments.items():
                found.setdefault((source, name), set()).update(re.findall(r"\bvar\.(\w+)", json.dumps(value)))
    return found


def rule_references() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """``{(module directory, input): the other inputs of that module its validation rules refer to}``."""
    references = {}
    for variables_tf in MODULES.glob("*/variables.tf"):
        module = variables_tf.parent.name
        for block in read_hcl(variables_tf).get("variable", []):
            for name, body in block.items():
                others = set(re.findall(r"var\.(\w+)", json.dumps(body.get("validation", [])))) - {name}
                references[(module, name)] = {(module, other) for other in others}
    return references


def batched(rounds: list[tuple[dict[str, object], set[str]]], environment: str) -> list[tuple[dict, set[str]]]:
    """The tfvars rounds merged into as few as keep each one's outcome: two rounds share a file only when they set
    no variable in common and no validation rule of either refers to a module input the other's values feed
    (Terraform skips a rule that refers to an input whose own rule failed, and a rule judges the values it sees)."""
    fed = root_variables_in(environment)
    references = rule_references()

    def inputs_fed(bad: dict) -> set[tuple[str, str]]:
        return {key for key, variables in fed.items() if variables & set(bad)}

    def referred(bad: dict) -> set[tuple[str, str]]:
        return set().union(*(references.get(key, set()) for key in inputs_fed(bad)))

    merged: list[tuple[dict, set[str]]] = []
    for bad, expected in sorted(rounds, key=lambda r: -len(r[0])):
        for index, (other, other_expected) in enumerate(merged):
            if set(bad) & set(other) or referred(bad) & inputs_fed(other) or referred(other) & inputs_fed(bad):
                continue
            merged[index] = ({**other, **bad}, other_expected | expected)
            break
        else:
            merged.append((dict(bad), set(expected)))
    return merged


def linked_inputs() -> set[tuple[str, str]]:
    """``(module directory, input)`` of every input whose validation rule refers to another input, and those others."""
    linked = set()
    for variables_tf in MODULES.glob("*/variables.tf"):
        module = variables_tf.parent.name
        for block in read_hcl(variables_tf).get("variable", []):
            for name, body in block.items():
                for rule in body.get("validation", []):
                    others = set(re.findall(r"var\.(\w+)", str(rule.get("condition", "")))) - {name}
                    if others:
                        linked |= {(module, name)} | {(module, other) for other in others}
    return linked


def hcl(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value.strip('"'))
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k.strip(chr(34)))} = {hcl(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def test_every_validation_rule_reachable_from_tfvars_is_reported_by_01(tmp_path, target):
    from runbook.terraform.binary import find_mirror

    if find_mirror() is None:
        pytest.skip("the AWS provider cannot be installed here (no filesystem mirror)")
    inputs = root_inputs("staging")

    def literal(value) -> bool:  # a tfvars holds literal values only: a case written as an expression cannot be given
        return "${" not in json.dumps(value)

    # A run that sets only the values expected to fail gives independent bad values, merged with other runs' (one
    # bad value per variable per tfvars file). A run that also sets context (a rule that refers to another input:
    # two restore sources, a time without a source) is a tfvars file of its own, exactly as the run sets it.
    # Terraform skips a rule that refers to an input whose own rule failed: inputs linked by such rules (the restore
    # inputs, pitr_recovery_period_days) get files of their own, never merged with others' bad values.
    linked = linked_inputs()
    independent, own_rounds = [], []
    for module, values, expected in failing_runs():
        given = {name: value for name, value in values.items() if (module, name) in inputs and literal(value)}
        if set(values) - set(given) - expected or not expected & set(given):
            continue  # context a tfvars cannot give, or nothing left to expect
        if set(given) <= expected and not {(module, name) for name in given} & linked:
            independent += [(inputs[(module, name)], value) for name, value in given.items()]
        else:
            own_rounds.append(
                (
                    {inputs[(module, name)]: value for name, value in given.items()},
                    {inputs[(module, name)] for name in expected & set(given)},
                )
            )
    exercised = {variable for variable, _ in independent} | {variable for bad, _ in own_rounds for variable in bad}
    assert len(exercised) >= 15, "the module suites should exercise most inputs"
    rounds: list[dict[str, object]] = []
    for variable, value in independent:  # one bad value per variable per tfvars file
        target_round = next((r for r in rounds if variable not in r), None)
        if target_round is None:
            rounds.append(target_round := {})
        target_round[variable] = value
    assert any("dynamodb_restore_source_name" in expected for _, expected in own_rounds), "restore: two sources"
    checked = batched([(bad, set(bad)) for bad in rounds] + own_rounds, "staging")
    assert sum(len(expected) for _, expected in checked) == (
        sum(len(bad) for bad in rounds) + sum(len(expected) for _, expected in own_rounds)
    ), "every case is checked"

    example, _ = preflight.emulator_ami(target, workconfig.example_file("staging").read_text())
    for number, (bad, expected) in enumerate(checked):
        tfvars = tmp_path / f"bad-{number}.tfvars"
        kept = [line for line in example.splitlines() if not re.match(rf"^\s*({'|'.join(bad)})\s*=", line)]
        tfvars.write_text("\n".join(kept + [f"{name} = {hcl(value)}" for name, value in bad.items()]) + "\n")
        ctx = open_context("staging", "us-east-1", target.endpoint_url, str(tmp_path / "work"), tfvars=str(tfvars))
        checks = tfvarsverdict.terraform_verdict(ctx)
        failed = {c.name.removeprefix("tfvars: "): c for c in checks if not c.ok}
        for name in expected:
            assert name in failed, f"01 did not report {name} = {hcl(bad[name])} (reported: {sorted(failed)})"
            line = workconfig.line_of(tfvars, name)
            assert f"{tfvars}:{line}:" in failed[name].detail, failed[name].detail
            assert f"line {line}" in failed[name].fix


def test_an_image_the_emulator_does_not_have_is_refused_on_its_line(tmp_path, target):
    """The guide's Step 1 by hand (`cp terraform.tfvars.example terraform.tfvars`) leaves ami-xxxxx: on an emulator
    01 names the file and line (02's apply would fail half-way), and accepts an image the emulator has."""
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text(workconfig.example_file("staging").read_text())
    ctx = open_context("staging", "us-east-1", target.endpoint_url, str(tmp_path / "work"), tfvars=str(tfvars))
    [check] = preflight.emulator_image(ctx)
    line = workconfig.line_of(tfvars, "ami_id")
    assert not check.ok and check.name == "tfvars: ami_id"
    assert f"{tfvars}:{line}: 'ami-xxxxx' is not an image this emulator has" in check.detail
    assert check.fix.startswith(f"edit {tfvars} line {line}: set ami_id to an image the emulator has, e.g. ami-")
    tfvars.write_text(preflight.emulator_ami(target, tfvars.read_text())[0])
    assert preflight.emulator_image(ctx) == []


def stub_local_checks(monkeypatch):
    """run_all's Python checks, each passing at once (no AWS, no Terraform)."""
    from runbook.checks import Check

    for name in (
        "python_version",
        "terraform_binary",
        "provider_source",
        "caller_identity",
        "working_tfvars",
        "region",
    ):
        monkeypatch.setattr(preflight, name, lambda *args, _n=name, **kwargs: Check(_n, True, ""))
    monkeypatch.setattr(preflight, "package", lambda name: Check(f"package {name}", True, ""))
    monkeypatch.setattr(preflight, "placeholders", lambda context: [])
    monkeypatch.setattr(preflight, "unknown_variables", lambda context: [])
    monkeypatch.setattr(preflight, "emulator_image", lambda context: [])


def test_terraform_s_verdict_starts_once_the_bucket_exists_beside_the_bucket_s_settings(monkeypatch):
    """run_all: the bucket first (its own thread, beside the Python checks); then ``init`` and the plan, with the
    bucket's settings checked at the same time; the checklist keeps its order."""
    import threading
    from types import SimpleNamespace

    from runbook.checks import Check

    verdict_started = threading.Event()
    order = []
    stub_local_checks(monkeypatch)
    monkeypatch.setattr(
        preflight,
        "state_bucket",
        lambda context, target: (order.append("bucket") or [Check("state bucket", True, "")], "config"),
    )

    def settings(target, config):
        assert config == "config"
        started = verdict_started.wait(timeout=10)
        order.append("settings")
        return [Check("bucket settings", started, "checked while Terraform ran" if started else "before it")]

    def verdict(context):
        order.append("verdict")
        verdict_started.set()
        return [Check("tfvars (Terraform)", True, "")]

    monkeypatch.setattr(preflight, "settings_checks", settings)
    monkeypatch.setattr(preflight, "terraform_verdict", verdict)
    context = SimpleNamespace(
        target=SimpleNamespace(region="us-east-1", endpoint_url="http://127.0.0.1:1", profile=None)
    )
    checks = preflight.run_all(context)
    assert order[0] == "bucket" and set(order[1:]) == {"verdict", "settings"}
    names = [c.name for c in checks]
    assert names[-3:] == ["state bucket", "bucket settings", "tfvars (Terraform)"]
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


def test_no_settings_and_no_wait_when_the_bucket_is_not_there(monkeypatch):
    from types import SimpleNamespace

    from runbook.checks import Check

    stub_local_checks(monkeypatch)
    monkeypatch.setattr(
        preflight,
        "state_bucket",
        lambda context, target: ([Check("state bucket", False, "does not exist", "create it")], None),
    )
    monkeypatch.setattr(preflight, "settings_checks", lambda *args: pytest.fail("no bucket: nothing to check"))
    monkeypatch.setattr(preflight, "terraform_verdict", lambda context: [Check("tfvars (Terraform)", False, "")])
    context = SimpleNamespace(target=SimpleNamespace(region="us-east-1", endpoint_url=None, profile=None))
    assert [c.name for c in preflight.run_all(context)][-2:] == ["state bucket", "tfvars (Terraform)"]
