"""What every notebook sets up first: validated parameters, the AWS target, the working tfvars, the workspace.

``open_context`` validates before any AWS call and fails fast (seconds, naming it) on an unreachable endpoint.
The table the notebooks talk about is Terraform's: :attr:`RunContext.table` reads it from the state (after an
apply) or from the saved plan, through :mod:`runbook.terraform.tfjson`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from runbook import params, workconfig
from runbook.aws.target import Target
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace


@dataclass
class RunContext:
    environment: str
    target: Target
    workspace: Workspace
    working: workconfig.WorkingTfvars = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.working is None:
            self.working = workconfig.resolve(self.environment, "", self.workspace.base)

    @property
    def region(self) -> str:
        return self.target.region

    @property
    def tfvars(self) -> Path:
        """The working tfvars every step reads (see :mod:`runbook.workconfig`)."""
        return self.working.path

    @cached_property
    def terraform(self) -> Terraform:
        return Terraform(self.workspace, self.target, var_file=self.tfvars)

    @cached_property
    def table(self):
        """The table as Terraform holds it (state) or plans it (the saved plan); ``None`` before any plan.

        Raises TerraformUnavailable where Terraform cannot run: there is no second description of the table.
        """
        # The readers come with runbook.spec (pydantic): the run's first kernel boots without them (test_kernels).
        from runbook.terraform import tfjson  # noqa: PLC0415 — first kernel's boot time

        spec = None
        if self.terraform.initialized:
            spec = tfjson.table_spec(tfjson.state_resources(self.terraform), self.region, self.environment)
            if spec is None and self.workspace.plan_file.is_file():
                spec = tfjson.table_spec(
                    tfjson.load_plan(self.terraform).planned_resources(), self.region, self.environment
                )
        return spec

    def forget_table(self) -> None:
        """Read the table again from Terraform next time (after a plan or an apply)."""
        self.__dict__.pop("table", None)

    def describe(self) -> dict:
        return {
            "environment": self.environment,
            "region": self.region,
            "target": self.target.label,
            "work_dir": str(self.workspace.base),
            "tfvars": self.working.describe(),
        }


def open_context(
    environment: str,
    aws_region: str,
    aws_endpoint_url: str = "",
    work_dir: str = "",
    check_endpoint: bool = True,
    tfvars: str = "",
) -> RunContext:
    """Validate the common notebook parameters and build the run's context."""
    environment = params.environment(environment)

    params.lab_environment_check(environment)  # in runbook lab's kernels: only the lab's environment
    region = params.region(aws_region)
    endpoint = params.endpoint_url(aws_endpoint_url)
    base = _work_dir(work_dir)
    workspace = Workspace.for_environment(environment, base)  # <work_dir>/<environment>, as everywhere
    working = workconfig.resolve(environment, tfvars, workspace.base)
    if working.exists:
        workconfig.check_environment(working.path, environment)
    target = Target.resolve(region, endpoint)
    if check_endpoint:
        target.check_reachable()
    return RunContext(environment, target, workspace, working)


def _work_dir(value: object) -> Path | None:
    """The ``work_dir`` parameter: the base of the work directories, '' for build/work (the environment's is
    ``<work_dir>/<environment>``, as for ``runbook run|cost|drift --work-dir``); a directory that exists or can be
    created there."""
    if not isinstance(value, str):
        raise params.ParameterError("work_dir", value, "a directory path, or '' for build/work")
    if not value:
        return None
    path = Path(value).resolve()
    existing = next(p for p in (path, *path.parents) if p.exists())  # the filesystem root always exists
    if not existing.is_dir():
        raise params.ParameterError(
            "work_dir", value, f"a directory path, or '' for build/work ({existing} is not a directory)"
        )
    return path
