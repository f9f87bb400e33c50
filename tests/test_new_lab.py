"""`python -m graders.new_lab`, on a copy of this repository: the new lab is whole (README, starter, rubric,
reference, verdicts, regenerated workflows and README list), the project's tests pick it up with no other
edit, its untouched starter is refused offline, and a taken or malformed id writes nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders import classroom
from graders.new_lab import NewLabError, new_lab
from graders.rubric import discover_labs
from tests.labs import REPO

NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest-kind", ".grades", "*.egg-info")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with lab 1.3 added by the command, as an author runs it."""
    repo = tmp_path_factory.mktemp("new-lab") / "repo"
    shutil.copytree(REPO, repo, ignore=NOT_COPIED)
    real = tree(REPO / "labs")
    result = subprocess.run([sys.executable, "-m", "graders.new_lab", "1.3", "Labels and selectors",
                             "--repo", str(repo)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "wrote labs/1.3/test_lab_1_3.py" in result.stdout
    assert tree(REPO / "labs") == real  # the real repository is left alone
    return repo


def pytest_in(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-p", "no:randomly"], cwd=repo,
                          capture_output=True, text=True, timeout=300, env=env)


def test_the_lab_has_every_part_and_a_rubric_of_100_points(copy: Path) -> None:
    labs = {lab.id: (folder, lab) for folder, lab in discover_labs(copy)}
    folder, lab = labs["1.3"]
    assert (folder, lab.title) == (copy / "labs" / "1.3", "Labels and selectors")
    assert sum(check.points for check in lab.checks) == 100
    readme = (folder / "README.md").read_text()
    for heading in ("# Lab 1.3: Labels and selectors", "## Part 1: ", "## Check your work", "## Clean up"):
        assert heading in readme
    assert "TODO (author)" in readme and "pytest labs/1.3" in readme
    assert "image: TODO" in (folder / "web.yaml").read_text()
    assert (copy / "tests/submissions/1.3/reference/web.yaml").is_file()
    assert "TODO" not in (copy / "tests/submissions/1.3/reference/web.yaml").read_text()


def test_what_the_labs_generate_is_regenerated(copy: Path) -> None:
    assert classroom.write_generated(copy, check=True) == 0
    assert "python -m graders.classroom grade 1.3 " in (copy / classroom.WORKFLOW).read_text()
    assert "cp tests/submissions/1.3/reference/*.yaml labs/1.3/" in (copy / classroom.CI_WORKFLOW).read_text()
    assert ("| [1.3](labs/1.3/README.md) | Labels and selectors | Write one Pod, `web`,"
            in (copy / "README.md").read_text())


def test_the_projects_tests_pick_it_up_with_no_other_edit(copy: Path) -> None:
    tables = pytest_in(copy, "tests/test_labs.py", "-m", "not podman", "-v")
    assert tables.returncode == 0, tables.stdout
    assert "test_the_table_names_the_rubrics_checks_and_its_points_sum_to_100[1.3] PASSED" in tables.stdout
    collected = pytest_in(copy, "tests/test_labs_podman.py", "tests/test_fake_cluster_parity.py", "--collect-only",
                          "-q").stdout
    for test in ("test_labs_podman.py::test_submission_gets_the_expected_verdict[1.3/reference]",
                 "test_labs_podman.py::test_only_selected_checks_are_reported[1.3]",
                 "test_fake_cluster_parity.py::test_same_verdict_as_on_podman[1.3/reference]"):
        assert test in collected


def test_the_untouched_starter_is_refused_offline_and_nothing_starts(copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    for tool in ("podman", "kind", "docker"):
        (tmp_path / tool).write_text(f"#!/bin/sh\necho \"{tool} $*\" >> '{log}'\nexit 1\n")
        (tmp_path / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    report = tmp_path / "grade.json"
    result = pytest_in(copy, "labs/1.3", "--backend", "podman", "--grade-report", str(report), env=env)
    assert not log.exists(), f"a backend was started: {log.read_text()}"
    grade = json.loads(report.read_text())
    assert (grade["lab"], grade["score"], grade["max_score"], result.returncode) == ("1.3", 0, 100, 1)
    assert {check["status"] for check in grade["checks"]} == {"failed"}
    assert "web.yaml: spec.containers[0].image: still a TODO placeholder" in grade["checks"][0]["message"]
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize(("lab_id", "title", "message"), [
    ("1.1", "Again", "lab 1.1 exists already (labs/1.1, tests/submissions/1.1): choose another id"),
    ("1.3", "Twice", "lab 1.3 exists already"),
    ("1.x", "T", "'1.x' is not a lab id: write two numbers joined by a dot, such as 1.3"),
    ("01.4", "T", "'01.4' is not a lab id"),
    ("1.4.1", "T", "'1.4.1' is not a lab id"),
    ("../1.4", "T", "'../1.4' is not a lab id"),
    ("", "T", "'' is not a lab id"),
    ("1.4", "  ", "give the lab a title"),
    ("1.4", 'Say "hi"', "may not contain"),
])
def test_a_taken_or_malformed_id_is_refused_and_nothing_is_written(copy: Path, lab_id: str, title: str,
                                                                   message: str) -> None:
    before = tree(copy)
    with pytest.raises(NewLabError, match=re.escape(message)):
        new_lab(lab_id, title, repo=copy)
    assert tree(copy) == before


def test_the_command_says_why_it_refuses(copy: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "graders.new_lab", "1.2", "Again", "--repo", str(copy)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("new_lab: lab 1.2 exists already")
