"""Record each environment's plan for the Architecture page: ``terraform show -json`` of the plan of the
committed ``terraform.tfvars.example`` from an empty state, on the embedded emulator.

    .venv/bin/python docs/architecture/record.py [ENV ...]

The site draws an environment from the plan its executed ``02-plan-and-apply`` recorded; these recordings are
the fallback for an environment the build did not run (``runbook run`` runs staging only). Only what the
diagram reads is kept: ``resource_changes`` (address, type, mode, actions) and ``configuration`` (whose
expressions carry Terraform's own ``references``; not ``provider_config``, which holds the emulator's endpoints).
Re-record after changing what the configuration creates.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from runbook import paths  # noqa: E402
from runbook.aws.emulator import Emulator  # noqa: E402
from runbook.aws.target import Target  # noqa: E402
from runbook.terraform.command import Terraform  # noqa: E402
from runbook.terraform.workspace import Workspace  # noqa: E402


def reduced(plan: dict) -> dict:
    """The parts of ``show -json`` the diagram reads (no values: nothing of the emulator's run is kept)."""
    changes = [
        {
            "address": c["address"],
            "type": c["type"],
            "mode": c.get("mode", "managed"),
            "change": {"actions": c["change"]["actions"]},
        }
        for c in plan.get("resource_changes", [])
    ]
    return {
        "format_version": plan.get("format_version"),
        "terraform_version": plan.get("terraform_version"),
        "resource_changes": changes,
        "configuration": {"root_module": (plan.get("configuration") or {}).get("root_module", {})},
    }


def main(environments: list[str]) -> None:
    with Emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        target = Target(region="us-east-1", endpoint_url=emulator.endpoint_url)
        for environment in environments:
            emulator.reset()
            workspace = Workspace.for_environment(environment, Path(tmp) / environment)
            example = paths.environment_dir(environment) / "terraform.tfvars.example"
            terraform = Terraform(workspace, target, var_file=example)
            terraform.prepare()
            terraform.init()
            terraform.plan()
            plan = reduced(terraform.show_json(workspace.plan_file.name))
            (HERE / f"{environment}.plan.json").write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
            print(f"recorded {environment}: {len(plan['resource_changes'])} resources")


if __name__ == "__main__":
    main(sys.argv[1:] or list(paths.ENVIRONMENTS))
