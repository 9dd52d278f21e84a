"""The default run: pyproject's pytest settings leave out the slow tests unless ``-m ""`` is given, and the
conftest hook fails an unmarked test that is slow (a copy of the project's settings in a scratch project, with a
limit of a fraction of a second so that the check itself stays cheap)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

from conftest import SLOW_MARKERS, allowed_seconds

from runbook import paths

pytest_plugins = "pytester"

CONFTEST = Path(__file__).with_name("conftest.py")
LIMIT = 0.1

SCRATCH_TESTS = """
import time

import pytest

SLOW = {limit} + 0.15


@pytest.fixture
def slow_fixture():
    time.sleep(SLOW)


def test_quick():
    pass


def test_quick_with_a_slow_fixture(slow_fixture):
    pass


def test_slow_unmarked():
    time.sleep(SLOW)


def test_slow_and_failing_keeps_its_own_failure():
    time.sleep(SLOW)
    assert False, "its own assertion"


@pytest.mark.terraform
def test_slow_marked():
    time.sleep(SLOW)


@pytest.mark.slow
class TestMarkedClass:
    def test_slow_in_a_marked_class(self):
        time.sleep(SLOW)
"""


def project_settings(limit: float) -> str:
    """The project's ``[tool.pytest.ini_options]`` as a pytest.ini, with ``unmarked_test_seconds`` set to ``limit``."""
    settings = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    addopts = settings["addopts"]
    addopts = shlex.join(addopts) if isinstance(addopts, list) else addopts
    markers = "".join(f"\n    {line}" for line in settings["markers"])
    return (
        f"[pytest]\naddopts = {addopts}\nmarkers ={markers}\nunmarked_test_seconds = {limit}\n"
        "unmarked_test_load_scaling = false\n"
    )  # the scratch tests' timings must not depend on the load


def scratch_project(pytester):
    pytester.makeini(project_settings(LIMIT))
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_scratch=SCRATCH_TESTS.format(limit=LIMIT))


def test_the_default_run_leaves_out_the_slow_markers_and_fails_a_slow_unmarked_test(pytester):
    assert {"notebooks", "terraform", "browser", "slow"} <= set(SLOW_MARKERS)
    scratch_project(pytester)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2, errors=1, deselected=2)
    text = result.stdout.str()
    assert re.search(
        rf"test_scratch.py::test_slow_unmarked: its call took \d+\.\d s, more than {LIMIT:g} s, "
        "without a slow-test marker",
        text,
    ), text
    assert re.search(
        r"test_scratch.py::test_quick_with_a_slow_fixture: its set-up \(fixtures\) took \d+\.\d s", text
    ), text
    for name in SLOW_MARKERS:
        assert f"@pytest.mark.{name}: " in text, text
    assert "its own assertion" in text and "failing_keeps_its_own_failure: its" not in text, "its own failure"
    assert "test_quick: its" not in text


def test_minus_m_empty_runs_everything_and_marked_tests_may_be_slow(pytester):
    scratch_project(pytester)
    result = pytester.runpytest("-p", "no:cacheprovider", "-m", "")
    result.assert_outcomes(passed=3, failed=2, errors=1)
    assert "test_slow_marked: its" not in result.stdout.str()
    assert "test_slow_in_a_marked_class: its" not in result.stdout.str()


def test_the_limit_holds_on_a_machine_with_cores_to_spare_and_grows_with_the_load_beyond_them():
    assert allowed_seconds(5, load=0.3, cpus=2) == 5
    assert allowed_seconds(5, load=2.0, cpus=2) == 5
    assert allowed_seconds(5, load=6.0, cpus=2) == 15
    assert allowed_seconds(5, load=6.0, cpus=0) == 30
