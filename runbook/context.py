"""What every notebook sets up first: validated parameters, the AWS target and the environment's workspace.

``open_context`` validates before any AWS call and fails fast (seconds, naming it) on an unreachable endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import params, paths
from .aws import Target
from .terraform import Terraform, Workspace


@dataclass
class RunContext:
    environment: str
    target: Target
    workspace: Workspace

    @property
    def region(self) -> str:
        return self.target.region

    @property
    def tfvars(self) -> Path:
        """The work directory's terraform.tfvars (01-setup creates it), else the committed example."""
        generated = self.workspace.tfvars
        return generated if generated.is_file() else paths.environment_dir(self.environment) / "terraform.tfvars.example"

    @cached_property
    def config(self):
        from .tfconfig import load_environment

        return load_environment(self.environment, self.tfvars)

    @property
    def table(self):
        """The desired table (:class:`runbook.spec.TableSpec`), with the region this run targets."""
        return self.config.table.model_copy(update={"region": self.region})

    @cached_property
    def terraform(self) -> Terraform:
        return Terraform(self.workspace, self.target)

    def describe(self) -> dict:
        return {"environment": self.environment, "region": self.region, "target": self.target.label,
                "work_dir": str(self.workspace.base)}


def open_context(environment: str, aws_region: str, aws_endpoint_url: str = "", work_dir: str = "",
                 check_endpoint: bool = True) -> RunContext:
    """Validate the common notebook parameters and build the run's context."""
    environment = params.environment(environment)
    region = params.region(aws_region)
    endpoint = params.endpoint_url(aws_endpoint_url)
    base = _work_dir(work_dir)
    target = Target.resolve(region, endpoint)
    if check_endpoint:
        target.check_reachable()
    workspace = Workspace(environment, base) if base else Workspace.for_environment(environment)
    return RunContext(environment, target, workspace)


def _work_dir(value: object) -> Path | None:
    """The ``work_dir`` parameter: '' (None: build/work) or a directory that exists or can be created there."""
    if not isinstance(value, str):
        raise params.ParameterError("work_dir", value, "a directory path, or '' for build/work")
    if not value:
        return None
    path = Path(value).resolve()
    existing = next(p for p in (path, *path.parents) if p.exists())  # the filesystem root always exists
    if not existing.is_dir():
        raise params.ParameterError("work_dir", value,
                                    f"a directory path, or '' for build/work ({existing} is not a directory)")
    return path
