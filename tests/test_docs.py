"""The documentation site: config, hooks, the CI workflow, and a strict build from executed notebooks.

The executed notebooks are produced once per test session (shared between pytest-xdist workers through a lock
file) by ``runbook.execution.runner.run`` on the embedded emulator, with fake credentials planted in the environment;
the
site is then built from them with the planted values gone, as CI's separate site job does, and every file of it
is scanned for keys, endpoints and account ids.
"""

from __future__ import annotations

import fcntl
import html
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from runbook import paths
from runbook.execution.record import MIME_TYPE
from runbook.publish import docs, notebookcopies, pagehtml, runsummary, sitepages

PLANTED = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": (
        "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDplantedFAKEtoken0123456789abcdefABCDEF"
    ),
}
WORKFLOW = paths.ROOT / ".github" / "workflows" / "runbook.yml"
MODULE_README = paths.MODULE_DIR / "README.md"


def expected_runbooks() -> list[str]:
    return [p.stem for p in sorted(paths.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))]


# -- the shared build -----------------------------------------------------------------------------------------
#: A directory to keep the executed notebooks in between sessions (development only): with it set, a session
#: whose directory already holds a run rebuilds only the site from that run.
REUSE_VARIABLE = "RUNBOOK_DOCS_TEST_DIR"


def _shared_dir(tmp_path_factory) -> Path:
    if os.environ.get(REUSE_VARIABLE):
        return Path(os.environ[REUSE_VARIABLE]).resolve()
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session
    return base / "runbook-docs-site"


def _build(shared: Path) -> dict:
    try:
        from runbook.execution import runner
    except ImportError as error:
        return {"skip": f"runner not available: {error}"}
    runs = shared / "runs"
    previous = shared / "run.json"
    if os.environ.get(REUSE_VARIABLE) and previous.exists() and any((runs / "staging").glob("*.ipynb")):
        info = json.loads(previous.read_text())
        started = time.perf_counter()
        info.update(
            status=docs.build(site_dir=shared / "site", runs_dir=runs / "staging"),
            build_seconds=round(time.perf_counter() - started, 1),
        )
        return info
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in PLANTED.items():
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        try:
            extra = {"work_dir": shared / "work"} if "work_dir" in inspect.signature(runner.run).parameters else {}
            result = runner.run(environments=("staging",), output_dir=runs, **extra)  # own work dir: no lock clash
        except ImportError as error:  # the runner's own dependencies are not there yet
            return {"skip": f"runner not available: {error}"}
    run_seconds = time.perf_counter() - started
    missing = [r.error for r in result.results if "No module named 'runbook." in (r.error or "")]
    if missing:  # part of the package the notebooks need is not written yet
        return {"skip": f"runner not available: {missing[0]}"}
    started = time.perf_counter()
    status = docs.build(site_dir=shared / "site", runs_dir=runs / "staging")
    info = {
        "status": status,
        "run_ok": result.ok,
        "run_failures": [f"{r.notebook}: {r.status} {r.error}" for r in result.results if r.status != "ok"],
        "endpoint_url": result.endpoint_url,
        "site": str(shared / "site"),
        "runs": str(runs / "staging"),
        "run_seconds": round(run_seconds, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    if os.environ.get(REUSE_VARIABLE):
        (shared / "run.json").write_text(json.dumps(info))
    return info


def built_site_info(tmp_path_factory) -> dict:
    """Run the staging notebooks and build the site once per session; skip when the runner is not available."""
    shared = _shared_dir(tmp_path_factory)
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info_path = shared / "info.json"
        if (
            os.environ.get(REUSE_VARIABLE)
            and os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0"
            and not getattr(built_site_info, "done", False)
        ):
            info_path.unlink(missing_ok=True)  # rebuild the site once per session
            built_site_info.done = True
        if not info_path.exists():
            info_path.write_text(json.dumps(_build(shared)))
        info = json.loads(info_path.read_text())
    if "skip" in info:
        pytest.skip(info["skip"])
    return info


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> dict:
    info = built_site_info(tmp_path_factory)
    assert info["status"] == 0, f"mkdocs build --strict failed (see the captured output); run: {info['run_failures']}"
    return info


def text_of(path: Path) -> str:
    """The visible text of an HTML page, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


# -- configuration --------------------------------------------------------------------------------------------
def test_mkdocs_config():
    config = yaml.load((paths.ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # BaseLoader: !! tags
    jupyter = next(p["mkdocs-jupyter"] for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jupyter["include"] == ["runbooks/*.ipynb"], "keep include explicit: the default renders any *.py"
    assert jupyter["execute"] == "false" and jupyter["include_source"] == "true"
    snippets = next(
        e["pymdownx.snippets"]
        for e in config["markdown_extensions"]
        if isinstance(e, dict) and "pymdownx.snippets" in e
    )
    assert snippets["check_paths"] == "true" and snippets["base_path"] == ["."]
    nav = json.dumps(config["nav"])
    for name in (
        "01-setup",
        "02-plan-and-apply",
        "03-import",
        "04-troubleshooting",
        "05-cost-analysis",
        "06-operations",
    ):
        assert f"runbooks/{name}.ipynb" in nav
    for page in (
        "index.md",
        "getting-started.md",
        "guide.md",
        "configuration.md",
        "architecture.md",
        "cost.md",
        "troubleshooting.md",
        "ci.md",
        "reference.md",
        "safety.md",
        "performance.md",
    ):
        assert page in nav and (paths.DOCS / page).exists()
    assert "pymdownx.superfences" in config["markdown_extensions"]  # no Mermaid fence: diagrams are drawn at build
    assert "remove_tag_config" not in jupyter  # code is folded by the hook, not hidden by tags no notebook carries
    assert "repo_url" in config and "edit_uri" in config  # configurable, empty by default
    assert "<!-- runbook:architecture -->" in (paths.DOCS / "architecture.md").read_text()
    assert '--8<-- "infrastructure/staging/modules/dynamodb/README.md"' in (paths.DOCS / "configuration.md").read_text()
    assert re.search(r'"mkdocs>=[\d.]+,<2"', (paths.ROOT / "pyproject.toml").read_text())


@pytest.mark.slow  # check-jsonschema on the workflow
def test_workflow_is_valid_against_the_github_schema():
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(checker).exists():
        pytest.skip("check-jsonschema is not installed")
    proc = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_runs_each_environment_and_publishes_the_site():
    workflow = yaml.load(WORKFLOW.read_text(), Loader=yaml.BaseLoader)
    run = workflow["jobs"]["run"]
    assert run["strategy"]["matrix"]["environment"] == ["staging", "production"]
    steps = run["steps"]
    assert any(
        s.get("uses", "").startswith("actions/setup-python") and s["with"]["python-version"] == "3.11" for s in steps
    )
    # the matrix value reaches the script through the environment (zizmor: no template expansion in `run`)
    assert any(
        'runbook run --env "$ENVIRONMENT"' in s.get("run", "")
        and s.get("env", {}).get("ENVIRONMENT") == "${{ matrix.environment }}"
        for s in steps
    )
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"].startswith("build/runs/")
    site_steps = workflow["jobs"]["site"]["steps"]
    assert any(s.get("uses", "").startswith("actions/download-artifact") for s in site_steps)
    assert any("runbook docs" in s.get("run", "") for s in site_steps)
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") for s in site_steps)
    deploy = workflow["jobs"]["deploy"]
    assert "refs/heads/main" in deploy["if"]
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")


# -- publishing (units) ---------------------------------------------------------------------------------------
def executed_notebook() -> dict:
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook(
        cells=[
            new_markdown_cell("# 01 · Setup"),
            new_code_cell('environment: str = "staging"', metadata={"tags": ["parameters"]}),
            new_code_cell(
                'environment = "staging"\naws_endpoint_url = "http://127.0.0.1:41234"',
                metadata={"tags": ["injected-parameters"]},
            ),
            new_code_cell(
                "record('ok', True)",
                outputs=[
                    new_output("display_data", data={MIME_TYPE: {"name": "ok", "value": True}}),
                    new_output(
                        "stream", name="stdout", text="arn:aws:iam::123456789012:root via http://127.0.0.1:41234\n"
                    ),
                ],
            ),
        ]
    )
    nb.metadata["papermill"] = {
        "parameters": {"aws_endpoint_url": "http://127.0.0.1:41234"},
        "input_path": str(paths.NOTEBOOKS / "01-setup.ipynb"),
        "exception": None,
    }
    return nb


def test_publish_notebook_adds_the_run_record_labels_parameters_drops_records_and_masks():
    published = notebookcopies.publish_notebook(executed_notebook())
    text = json.dumps(published)
    assert MIME_TYPE not in text
    assert "127.0.0.1" not in text and "123456789012" not in text and str(paths.ROOT) not in text
    sources = ["".join(c["source"]) for c in published["cells"]]
    kinds = [c["cell_type"] for c in published["cells"]]
    # title, run record, defaults note, defaults, injected note, injected (masked), the code cell
    assert kinds == ["markdown", "markdown", "markdown", "code", "markdown", "code", "code"]
    assert sources[1].startswith("## Run record") and "| `aws_endpoint_url` | `'<endpoint>'` |" in sources[1]
    assert "*Defaults*" in sources[2] and "injected" in sources[4]
    # masking never leaves a placeholder where a value is expected: the line says so and the default applies
    assert "<endpoint>" not in sources[5] and "# aws_endpoint_url: this run's value is not published" in sources[5]
    assert published["cells"][6]["outputs"][0]["text"] == "arn:aws:iam::<account-id>:root via <endpoint>\n"
    assert published["metadata"]["papermill"]["input_path"] == "notebooks/01-setup.ipynb"


def test_run_summary_shows_what_ran_and_never_a_secret():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook(
        cells=[
            new_markdown_cell("# 02 · Plan and apply"),
            new_code_cell('apply: bool = False  # apply\nconfirm: str = ""', metadata={"tags": ["parameters"]}),
            new_code_cell("apply = True", metadata={"tags": ["injected-parameters"]}),
            new_markdown_cell("## Step 4 · `terraform plan`"),
            new_code_cell(
                "plan()",
                execution_count=3,
                outputs=[
                    new_output("display_data", data={MIME_TYPE: {"name": "plan_summary", "value": {"create": 7}}}),
                    new_output("display_data", data={MIME_TYPE: {"name": "plan_sha256", "value": "ab" * 32}}),
                    new_output("display_data", data={MIME_TYPE: {"name": "terraform_version", "value": "1.11.4"}}),
                ],
            ),
            new_markdown_cell("## Step 5 · apply"),
            new_code_cell(
                "apply()",
                execution_count=4,
                outputs=[new_output("stream", name="stdout", text="Not applied: pass apply=True\n")],
            ),
            new_markdown_cell("## Verify"),
            new_code_cell(
                "verify()",
                execution_count=5,
                metadata={"papermill": {"status": "failed"}},
                outputs=[new_output("error", ename="AssertionError", evalue="drift", traceback=[])],
            ),
            new_markdown_cell("## After"),
            new_code_cell("after()", metadata={"papermill": {"status": "pending"}}),
        ]
    )
    nb.metadata["papermill"] = {
        "parameters": {
            "apply": True,
            "environment": "staging",
            "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        },
        "start_time": "2026-12-01T09:58:29+00:00",
        "duration": 65.4,
        "exception": True,
    }
    summary = runsummary.run_summary(nb)
    assert "| `apply` | `True` | `False` |" in summary
    assert "wJalrXUtnFEMI" not in summary and "<redacted>" in summary
    assert "Plan: 7 to add, 0 to change, 0 to destroy." in summary and "ab" * 32 in summary
    assert "Terraform 1.11.4" in summary and "2026-12-01 09:58:29 UTC (ran 65 s)" in summary
    assert "**failed**: `AssertionError` drift" in summary
    steps = {s["step"]: s for s in runsummary.step_results(nb)}
    assert steps["Step 4 · terraform plan"]["result"] == "ok"
    assert steps["Step 4 · terraform plan"]["id"] == "step-4-terraform-plan"
    assert steps["Step 5 · apply"]["result"] == "skipped"
    assert steps["Verify"]["result"] == "failed" and steps["After"]["result"] == "not run"
    published = json.dumps(notebookcopies.publish_notebook(nb))
    assert "wJalrXUtnFEMI" not in published


def test_heading_ids_match_what_mkdocs_jupyter_renders():
    from mkdocs_jupyter.utils import slugify

    for text in ("Step 3 · terraform init", "Verify: drift report", "On-demand or provisioned?"):
        assert runsummary.heading_id(text) == slugify(text)


def test_default_index_columns_are_dropped_meaningful_ones_kept():
    import pandas as pd

    plain = pd.DataFrame([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]).to_html()
    dropped = notebookcopies._without_default_index(plain)
    assert "<th>0</th>" not in dropped and "<th>a</th>" in dropped and dropped.count("<th>") == 2
    named = pd.DataFrame([{"a": 1}], index=["writes"]).to_html()
    assert notebookcopies._without_default_index(named) == named


def test_display_helpers():
    import pandas as pd

    from runbook.execution import display

    html = display.table([{"check": "x", "fix": "y" * 80, "n": float("nan")}]).to_html()
    assert "y" * 80 in html and "nan" not in html.lower().replace("nan-", "") and display.MISSING in html
    assert ">0<" not in html and display.TABLE_CLASS in html
    assert "<th" in display.table(pd.DataFrame({"v": [1]}, index=pd.Index(["writes"], name="component"))).to_html()
    mapping = display.mapping({"records": 2, "images": {"new": True}}).to_html()
    assert "images" in mapping and "new: yes" in mapping
    assert display.sentence({"create": 7}) == "Plan: 7 to add, 0 to change, 0 to destroy."
    assert display.sentence({"update": 1, "replace": 1}) == "Plan: 1 to add, 1 to change, 1 to destroy."
    assert (
        display.sentence({"import": 1, "add": 0, "change": 1, "remove": 0})
        == "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy."
    )
    assert display.sentence({}).startswith("No changes.")
    assert pd.get_option("display.max_colwidth") is None


def test_the_included_readme_nests_under_the_page_and_has_the_differences_once():
    readme = MODULE_README.read_text()
    included = sitepages.included_readme(MODULE_README, "configuration.md")
    assert not re.search(r"^# ", re.sub(r"```.*?```", "", included, flags=re.DOTALL), re.MULTILINE)
    for line in readme.splitlines():
        if line.startswith("## "):
            assert "#" + line in included
    assert included.count(sitepages.DIFFERENCES_MARKER) == 1
    link = sitepages.rewrite_links(
        "[x](../../terraform.tfvars.example) [m](main.tf#L1) [e](examples/none/) [w](https://x.y)",
        MODULE_README,
        "configuration.md",
    )
    assert link == (
        "[x](source/infrastructure/staging/terraform.tfvars.example.md) "
        "[m](source/infrastructure/staging/modules/dynamodb/main.tf.md#L1) e [w](https://x.y)"
    )
    assert (
        "[e](https://github.com/o/r/tree/main/infrastructure/staging/modules/dynamodb/examples/none)"
        in sitepages.rewrite_links("[e](examples/none/)", MODULE_README, "configuration.md", "https://github.com/o/r")
    )


def test_source_pages_publish_the_tf_files_but_never_an_operators_tfvars():
    pages = sitepages.source_pages("")
    assert "source/infrastructure/staging/main.tf.md" in pages
    assert "source/infrastructure/staging/modules/dynamodb/variables.tf.md" in pages
    assert not any(uri.endswith(("terraform.tfvars.md", "backend.hcl.md")) or ".tfstate" in uri for uri in pages)
    linked = sitepages.source_pages("https://github.com/o/r")["source/infrastructure/staging/main.tf.md"]
    assert "https://github.com/o/r/blob/main/infrastructure/staging/main.tf" in linked


RECORDED_PLANS = {env: docs.recorded_plan(env) for env in paths.ENVIRONMENTS}


def test_the_architecture_graph_follows_terraforms_references_across_modules():
    from runbook.publish.architecture import plan_graph, render_svg

    for environment, recording in RECORDED_PLANS.items():
        plan = json.loads(recording.read_text())
        graph = plan_graph(plan)
        addresses = {r["address"] for r in graph.resources}
        assert "module.dynamodb.aws_dynamodb_table.notifications" in addresses, environment
        edges = set(graph.edges)
        # the app's policy attachment references the dynamodb module's policy: through the app module's input
        # variable, the root's module call and the dynamodb module's output
        assert (
            "module.app.aws_iam_role_policy_attachment.app_dynamodb",
            "module.dynamodb.aws_iam_policy.full_access",
        ) in edges
        assert ("module.app.aws_iam_role_policy_attachment.app_dynamodb", "module.app.aws_iam_role.app") in edges
        assert "127.0.0.1" not in recording.read_text()  # nothing of the recording run's emulator
        svg = render_svg(graph, f"{environment} architecture", element_id=f"a-{environment}")
        assert svg.count('class="runbook-arch-edge"') == len(edges) and svg.count("<rect") >= len(addresses)
        assert 'role="img"' in svg and "references module.dynamodb.aws_iam_policy.full_access" in svg
        assert all(a in addresses and b in addresses for a, b in edges)
    production = plan_graph(json.loads(RECORDED_PLANS["production"].read_text()))
    staging = plan_graph(json.loads(RECORDED_PLANS["staging"].read_text()))
    assert len(production.resources) > len(staging.resources)  # alarms, and what else production enables


def test_architecture_is_drawn_from_terraform_never_by_hand(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from runbook.publish.architecture import plan_graph

    runs = tmp_path / "runs"
    (runs / "staging").mkdir(parents=True)
    graph = plan_graph(json.loads(RECORDED_PLANS["staging"].read_text())).to_dict()
    nb = new_notebook(
        cells=[
            new_code_cell(
                "x", outputs=[new_output("display_data", data={MIME_TYPE: {"name": "plan_graph", "value": graph}})]
            )
        ]
    )
    nb.metadata["papermill"] = {"parameters": {"environment": "staging", "work_dir": str(tmp_path / "none")}}
    (runs / "staging" / "02-plan-and-apply.ipynb").write_text(json.dumps(nb))
    page = docs.architecture_markdown(runs / "staging", environments=["staging", "production"])
    assert "```mermaid" not in page and page.count("<svg") == 2
    assert "this build's executed `02-plan-and-apply`" in page  # staging: from the run
    assert "recorded with Terraform" in page  # production: not run here, from the recorded plan
    page = docs.architecture_markdown(runs / "staging", environments=["nowhere"])
    assert "No diagram for nowhere in this build" in page  # a clear message, never a made-up list


def test_stage_runbooks_publishes_executed_and_says_when_not(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "01-setup.ipynb").write_text(json.dumps(executed_notebook()))
    status = notebookcopies.stage_runbooks(["01-setup", "02-plan-and-apply", "99-missing"], tmp_path / "out", runs)
    assert status == {"01-setup": "executed", "02-plan-and-apply": "not executed", "99-missing": "not executed"}
    placeholder = json.loads((tmp_path / "out" / "02-plan-and-apply.ipynb").read_text())
    assert "has not been executed" in json.dumps(placeholder)
    missing = json.loads((tmp_path / "out" / "99-missing.ipynb").read_text())
    assert missing["cells"][0]["source"].startswith("# 99")
    import nbformat

    for name in status:
        nbformat.validate(nbformat.read(tmp_path / "out" / f"{name}.ipynb", as_version=4))


def test_environment_differences_table_is_generated_from_the_tfvars_examples():
    for env in paths.ENVIRONMENTS:
        if not sitepages.tfvars_example(env).exists():
            pytest.skip(f"{sitepages.tfvars_example(env)} does not exist yet")
    table = sitepages.environment_differences()
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in map(str.strip, table.splitlines())
        if line.startswith("| `")
    }
    staging, production = sitepages.environment_settings("staging"), sitepages.environment_settings("production")
    for name in set(staging) | set(production):
        assert f"`{name}`" in rows, name
    assert rows["`dynamodb_pitr_enabled`"] == ["`false`", "`true`"]
    assert rows["`dynamodb_notifications_table_name`"] == [
        '`"staging-user-notifications"`',
        '`"production-user-notifications"`',
    ]


def test_runs_are_stale(tmp_path):
    notebooks, runs = tmp_path / "nb", tmp_path / "runs"
    notebooks.mkdir()
    (notebooks / "01-a.ipynb").write_text("{}")
    assert docs.runs_are_stale(runs, notebooks)  # missing
    runs.mkdir()
    (runs / "01-a.ipynb").write_text("{}")
    os.utime(notebooks / "01-a.ipynb", (time.time() - 100, time.time() - 100))
    assert not docs.runs_are_stale(runs, notebooks)
    os.utime(notebooks / "01-a.ipynb", (time.time() + 100, time.time() + 100))
    assert docs.runs_are_stale(runs, notebooks)  # a notebook changed after its run


def test_build_runs_the_notebooks_first_when_stale(monkeypatch, tmp_path):
    calls = []

    class Result:
        ok, results = True, []

    fake_runner = type(sys)("runbook.execution.runner")
    fake_runner.run = lambda **kwargs: calls.append(kwargs) or Result()
    monkeypatch.setattr(docs, "runner", fake_runner)
    monkeypatch.delenv(docs.RUNS_VARIABLE, raising=False)
    monkeypatch.setattr(docs, "runs_are_stale", lambda *a: True)
    commands = []
    monkeypatch.setattr(
        docs.subprocess, "run", lambda cmd, **kw: commands.append((cmd, kw)) or subprocess.CompletedProcess(cmd, 0)
    )
    assert docs.build(site_dir=tmp_path / "site") == 0
    assert calls == [{"environments": ("staging",)}]
    command, kwargs = commands[0]
    assert command[1:4] == ["-m", "runbook.publish._mkdocs", "build"] and "--strict" in command
    assert kwargs["env"]["NO_MKDOCS_2_WARNING"] == "1"
    # an explicit directory of executed notebooks is published as it is
    calls.clear()
    assert docs.build(site_dir=tmp_path / "site", runs_dir=tmp_path) == 0
    assert calls == [] and commands[-1][1]["env"][docs.RUNS_VARIABLE] == str(tmp_path.resolve())


# -- strict builds --------------------------------------------------------------------------------------------
@pytest.mark.slow  # a strict mkdocs build
def test_site_builds_strict_without_any_executed_notebook(tmp_path):
    """Whatever has run: with no executed notebook at all, every runbook page says so and --strict passes."""
    empty = tmp_path / "runs"
    empty.mkdir()
    assert docs.build(site_dir=tmp_path / "site", runs_dir=empty) == 0
    for name in expected_runbooks():
        page = tmp_path / "site" / "runbooks" / name / "index.html"
        assert "has not been executed" in text_of(page)


@pytest.mark.notebooks  # built_site: the staging notebooks run, then mkdocs builds the site
def test_every_runbook_page_carries_its_outputs(built_site):
    assert built_site["run_ok"], f"runbook run failed: {built_site['run_failures']}"
    site = Path(built_site["site"])
    for name in expected_runbooks():
        page = site / "runbooks" / name / "index.html"
        assert page.exists(), name
        content = page.read_text(encoding="utf-8")
        assert "has not been executed" not in content, name
        assert content.count("jp-OutputArea-output") >= 3, f"{name}: no outputs on the page"
        assert MIME_TYPE not in content
        assert 'id="run-record"' in content, f"{name}: no run record"
        published = site / "runbooks" / name / f"{name}.ipynb"
        assert published.exists(), f"{name}: no notebook to download"
        assert f'href="{name}.ipynb"' in content, f"{name}: no download button"
        nb = json.loads(published.read_text())
        executed = json.loads((Path(built_site["runs"]) / f"{name}.ipynb").read_text())
        parameters = executed["metadata"]["papermill"]["parameters"]
        record = "".join(nb["cells"][1]["source"])
        for parameter in parameters:  # the injected values are on the page, masked
            assert f"| `{parameter}` |" in record, f"{name}: injected {parameter} not in the run record"
        assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.notebooks  # built_site: the staging notebooks run, then mkdocs builds the site
def test_the_run_bootstrapped_its_emulator_as_it_started_and_01_says_so(built_site):
    """``runbook run`` on its own emulator bootstraps the state bucket while the first kernel boots
    (runbook.execution.bucket_ahead); 01's checklist reports it, from the bootstrap's record of this run."""
    from runbook.execution.record import read_records

    checks = read_records(Path(built_site["runs"]) / "01-setup.ipynb")["checks"]
    bucket = next(c for c in checks if re.fullmatch(r"state bucket [\w.-]+", c["name"]))
    assert bucket["ok"], bucket
    assert bucket["detail"].startswith("created on emulator by infrastructure/bootstrap as this run started"), bucket
    assert all(c["ok"] for c in checks if c["name"].startswith("state bucket")), checks


@pytest.mark.notebooks  # built_site: the staging notebooks run, then mkdocs builds the site
def test_no_paragraph_swallows_the_list_after_it(built_site):
    """Markdown needs a blank line between a paragraph and a list; without it the items render as one paragraph
    with literal "- " in it."""
    swallowed = [
        f"{page.relative_to(built_site['site'])}: …{match.group(0)[-80:]!r}"
        for page in sorted(Path(built_site["site"]).rglob("index.html"))
        for match in re.finditer(r"<p>(?:(?!</p>).){0,2000}?\n[-*] ", page.read_text(encoding="utf-8"), re.S)
    ]
    assert not swallowed, "a list runs on from the paragraph before it:\n" + "\n".join(swallowed)


@pytest.mark.notebooks  # built_site: the staging notebooks run, then mkdocs builds the site
def test_navigation_lists_every_page(built_site):
    home = (Path(built_site["site"]) / "index.html").read_text(encoding="utf-8")
    for target in [
        "getting-started/",
        "guide/",
        "configuration/",
        "architecture/",
        "runbooks/",
        "cost/",
        "troubleshooting/",
        "ci/",
        "reference/",
        "safety/",
        "performance/",
        *[f"runbooks/{n}/" for n in expected_runbooks()],
    ]:
        assert f'href="{target}"' in home, target


@pytest.mark.notebooks  # built_site: the staging notebooks run, then mkdocs builds the site
def test_configuration_page_includes_the_module_readme_and_the_differences(built_site):
    page = text_of(Path(built_site["site"]) / "configuration" / "index.html")
    page = re.sub(r"\s+", " ", page)
    headings = [
        re.sub(r"[`*_]", "", line.lstrip("#").strip())
        for line in MODULE_README.read_text().splitlines()
        if re.match(r"#{2,4} ", line)
    ]  # its H1 gives way to the page's own title
    assert headings, "the module README has no headings"
    for heading in headings:
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        assert re.sub(r"\s+", " ", heading) in page, f"module README heading {heading!r} missing"
    assert "dynamodb_pitr_enabled" in page and "production-user-notifications" in page
    content = (Path(built_site["site"]) / "configuration" / "index.html").read_text(encoding="utf-8")
    toc = content.split("md-nav--secondary", 1)[1].split('class="md-content"', 1)[0]  # nested <nav>s inside
    toc_text = html.unescape(re.sub(r"<[^>]+>", " ", toc))
    for line in MODULE_README.read_text().splitlines():
        if line.startswith("## "):
            title = re.sub(r"[`*_]", "", line[3:].strip())
            assert title in toc_text, f"the configuration page's table of contents lacks {title!r}"
    assert content.count('id="environment-differences') == 1, "the environment differences appear twice"
    assert content.count("Generated when the site is built") == 1


SECRET_PATTERNS = {
    "access key id": re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "loopback endpoint": re.compile(r"(?:https?://)?(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]):\d+"),
    "account id in an ARN": re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{12}"),
    "the emulator's account id": re.compile(r"(?<!\d)123456789012(?!\d)"),
}


def machine_paths(built_site) -> list[str]:
    """Paths of this machine that must appear in no page, download or search index."""
    found = [str(paths.ROOT), str(Path(built_site["runs"]).parent.parent), str(Path.home()) + "/", sys.prefix]
    found += [
        p for p in (shutil.which("terraform"), shutil.which("tofu"), os.environ.get("RUNBOOK_TF_PLUGIN_MIRROR")) if p
    ]
    found += [m for m in ("/opt/tf-plugins",) if Path(m).is_dir()]
    return found


@pytest.mark.notebooks  # built_site: the staging notebooks run, then mkdocs builds the site
def test_no_endpoint_key_account_id_or_machine_path_anywhere_in_the_site(built_site):
    site = Path(built_site["site"])
    literals = [*PLANTED.values(), built_site["endpoint_url"] or "http://127.0.0.1:", *machine_paths(built_site)]
    literals += [v.replace("/", "\\/") for v in PLANTED.values()]  # as JSON may escape them
    scanned, found = 0, []
    for path in site.rglob("*"):
        if not path.is_file() or path.suffix in {".png", ".gz", ".woff", ".woff2", ".ico"}:
            continue
        if "assets" in path.relative_to(site).parts[:1]:
            continue  # the theme's own bundles: nothing of ours
        text = path.read_text(encoding="utf-8", errors="replace")
        scanned += 1
        for literal in literals:
            if literal in text:
                found.append(f"{path.relative_to(site)}: {literal}")
        for what, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(site)}: {what}: {match.group(0)}")
    assert scanned > 10
    assert not found, "\n".join(found[:40])


def test_runbook_docs_cli_help():
    proc = subprocess.run(
        [sys.executable, "-m", "runbook.cli", "docs", "--help"],
        capture_output=True,
        text=True,
        cwd=paths.ROOT,
        timeout=60,
    )
    assert proc.returncode == 0 and "--serve" in proc.stdout


# -- the published notebook pages, HTML side ------------------------------------------------------------------
NOTEBOOK_PAGE = """<script src="x.js"></script><style type="text/css">.jp-Cell{color:red}</style>
<script>document.addEventListener('clipboard-copy', f)</script>
<!-- Load mathjax -->
<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"> </script>
<script type="text/x-mathjax-config">init_mathjax()</script>
<!-- End of mathjax configuration -->
<script type="module">const m = await import("https://cdnjs.example/mermaid.esm.min.mjs");</script>
<div class="jupyter-wrapper"><div class="jp-Notebook"><clipboard-copy ,="" aria-label="Copy" for="cell-1">
</clipboard-copy>
<div class="jp-Cell jp-CodeCell jp-Notebook-cell celltag_parameters"><div class="jp-Cell-inputWrapper">
<div class="jp-InputArea"><pre>apply: bool = False</pre></div></div></div>
<div class="jp-Cell jp-CodeCell jp-Notebook-cell"><div class="jp-Cell-inputWrapper">
<div class="jp-InputArea"><div class="highlight-ipynb"><pre>a = 1
b = 2</pre></div></div></div>
<div class="jp-Cell-outputWrapper"><div class="jp-OutputArea">
<div class="jp-OutputArea-child"><div class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain">
<pre>%s</pre></div></div>
<div class="jp-OutputArea-child"><div class="jp-RenderedHTMLCommon jp-OutputArea-output">
<table><thead><tr><th class="blank">&nbsp;</th><th>x</th></tr></thead></table>
<img src="data:image/png;base64,AA"></div></div>
</div></div></div>
</div></div>""" % "\n".join(f"line {i}" for i in range(40))


def test_notebook_pages_share_one_stylesheet_and_load_nothing_from_elsewhere():
    page, styles, scripts = pagehtml.split_notebook_assets(NOTEBOOK_PAGE)
    assert styles == [".jp-Cell{color:red}"] and scripts == ["document.addEventListener('clipboard-copy', f)"]
    assert "<style" not in page and "<script" not in page and "mathjax" not in page.lower()
    assert "cdnjs" not in page and page.startswith('<div class="jupyter-wrapper">')
    assert '<clipboard-copy role="button" tabindex="0" aria-label="Copy" for="cell-1">' in page


def test_code_is_folded_the_parameters_stay_and_long_outputs_fold():
    page = pagehtml.fold_noisy_outputs(pagehtml.fold_code_inputs(NOTEBOOK_PAGE))
    assert page.count('<details class="runbook-code">') == 1 and ">Code (2 lines)</summary>" in page
    folded = page.split('<details class="runbook-code">', 1)[1]
    assert "a = 1" in folded and "apply: bool = False" not in folded  # the parameters cell is not folded
    assert '<details class="runbook-output"><summary data-search-exclude>Output (40 lines)</summary>' in page
    assert page.count("<div") == NOTEBOOK_PAGE.count("<div") and page.count("</div>") == page.count("<div")


def test_notebook_html_is_keyboard_and_screen_reader_friendly_and_searches_prose():
    page = pagehtml.accessible_notebook_html(NOTEBOOK_PAGE)
    assert '<pre tabindex="0"' in page and "<pre>" not in page
    assert '<th class="blank">' not in page and '<td class="blank"></td>' in page
    assert re.search(r'<img alt="[^"]+" src=', page)
    assert re.search(r"<pre [^>]*data-search-exclude", page) and "<table data-search-exclude" in page


def test_a_published_notebook_is_runnable_the_template_is_the_runbook():
    published = notebookcopies.publish_notebook(executed_notebook())
    injected = next(c for c in published["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    code = "".join(injected["source"])
    compile(code, "injected", "exec")  # valid Python, no placeholder as a value
    assert not any(p in line.split("#")[0] for line in code.splitlines() for p in ("<endpoint>", "<work-dir>"))
    template = notebookcopies.template_notebook("02-plan-and-apply")
    assert template is not None and all(not c.get("outputs") for c in template["cells"] if c["cell_type"] == "code")
    assert sum("parameters" in c["metadata"].get("tags", []) for c in template["cells"]) == 1


def test_the_plan_review_drops_empty_columns_and_says_the_summary_once():
    from runbook.steps.planview import table_panel
    from runbook.steps.review import review

    fixture = paths.ROOT / "tests" / "fixtures" / "terraform"
    created = review(json.loads((fixture / "create.json").read_text()), plan_sha256="ab" * 32)
    text = created.to_markdown("planned here")
    assert text.count("Plan:") == 1 and text.count("ab" * 32) == 1
    header = next(line for line in text.splitlines() if line.startswith("| address"))
    assert "destructive" not in header and "forces replacement" not in header
    assert "| `module.dynamodb.aws_dynamodb_table.notifications` |" in text
    replaced = review(json.loads((fixture / "hash_key.json").read_text())).to_markdown()
    assert "forces replacement" in next(line for line in replaced.splitlines() if line.startswith("| address"))
    panel = table_panel(json.loads((fixture / "cost-production-plan.json").read_text()))
    for setting in (
        "name",
        "billing",
        "point-in-time recovery",
        "stream",
        "TTL",
        "table class",
        "encryption",
        "deletion protection",
        "alarm",
    ):
        assert f"| {setting}" in panel, setting
    assert "on-demand ceiling" in panel or "provisioned capacity" in panel


def test_figures_for_people():
    from runbook.execution import display

    assert display.label("on_demand_monthly_usd") == "On-demand monthly"
    assert display.label("break_even_utilization") == "Break-even utilization"
    assert display.money(1234.5) == "$1,234.50" and display.money(None) == display.MISSING
    assert display.percent(0.28887) == "28.9%"
    html = display.settings(
        {"break_even_utilization": 0.28887, "wcu": 12000, "saving_usd": 3.5, "gsis": [], "note": None}
    ).to_html()
    assert "28.9%" in html and "12,000" in html and "$3.50" in html and "tex2jax_ignore" in html
    assert "None" not in html and "[]" not in html and "nan" not in html.lower()


@pytest.mark.notebooks
def test_both_downloads_run_as_they_are_with_papermill(built_site, target, tmp_path):
    """The template beside each page runs as is, and so does the executed record (masked values fall back to the
    defaults): here 04-troubleshooting, the quickest, on the emulator with papermill's usual -p parameters."""
    import papermill

    site = Path(built_site["site"])
    name = "04-troubleshooting"
    template = site / "downloads" / f"{name}.ipynb"
    record = site / "runbooks" / name / f"{name}.ipynb"
    page = (site / "runbooks" / name / "index.html").read_text(encoding="utf-8")
    assert template.is_file() and record.is_file() and f"downloads/{name}.ipynb" in page
    for kind, notebook in (("template", template), ("record", record)):
        output = tmp_path / f"{kind}.ipynb"
        papermill.execute_notebook(
            str(notebook),
            str(output),
            cwd=str(paths.NOTEBOOKS),
            progress_bar=False,
            kernel_name="python3",
            parameters={"aws_endpoint_url": target.endpoint_url, "work_dir": str(tmp_path / kind)},
        )
        executed = json.loads(output.read_text())
        assert not executed["metadata"]["papermill"].get("exception"), kind
