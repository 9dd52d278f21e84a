"""Every committed notebook: outputs stripped, one typed and commented parameters cell papermill can read."""

import json
import re

import papermill
import pytest

from runbook import paths
from runbook.execution import runner

NOTEBOOKS = runner.discover_notebooks()
COMMON = {"environment", "aws_region", "aws_endpoint_url"}


def test_the_six_runbooks_exist():
    assert [nb.stem for nb in NOTEBOOKS] == [
        "01-setup",
        "02-plan-and-apply",
        "03-import",
        "04-troubleshooting",
        "05-cost-analysis",
        "06-operations",
    ][: len(NOTEBOOKS)]
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_clean_with_one_parameters_cell(path):
    nb = json.loads(path.read_text())
    assert "papermill" not in nb["metadata"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    lines = [line for line in "".join(tagged[0]["source"]).splitlines() if line.strip()]
    for line in lines:
        assert re.match(r"^\w+: \w+ = .+  # [^=]+$", line), f"{path.name}: not 'name: type = default  # help': {line}"
    inferred = papermill.inspect_notebook(str(path))
    assert len(inferred) == len(lines), f"papermill could not parse every parameter of {path.name}"
    assert COMMON <= set(inferred)
    if {"apply", "confirm"} & set(inferred):
        assert inferred["apply"]["default"] == "False" and inferred["confirm"]["default"] == '""'


def test_environment_files_are_papermill_parameters():
    import yaml

    for env in paths.ENVIRONMENTS:
        values = yaml.safe_load((paths.ENVIRONMENT_FILES / f"{env}.yaml").read_text())
        assert values["environment"] == env
        assert not {"apply", "confirm"} & set(values), "changes are never confirmed in a committed file"


#: Parameters that change infrastructure, with the only default a committed template may give them.
SAFE_DEFAULTS = {"apply": "False", "confirm": '""', "allow_destroy": '""', "plan_sha256": '""', "destroy": "False"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_templates_keep_safe_defaults_and_no_outputs(path):
    """What the lab and autosave must never smuggle into a template (issue 15): an edited ``apply: bool = True``,
    a pre-filled confirmation, outputs, an injected-parameters cell or papermill's metadata."""
    nb = json.loads(path.read_text())
    inferred = papermill.inspect_notebook(str(path))
    for name, safe in SAFE_DEFAULTS.items():
        if name in inferred:
            assert inferred[name]["default"] == safe, f"{path.name}: {name} defaults to {inferred[name]['default']}"
    assert "apply" not in inferred or "confirm" in inferred, f"{path.name}: apply without confirm"
    for cell in nb["cells"]:
        assert "injected-parameters" not in cell.get("metadata", {}).get("tags", []), path.name
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: outputs committed"
        assert not cell.get("attachments"), f"{path.name}: attachments committed"
    assert not {"papermill", "runbook_lab"} & set(nb["metadata"]), f"{path.name}: run metadata committed"
