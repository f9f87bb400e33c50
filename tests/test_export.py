"""The student-facing export for a Classroom template: no answers inside, and it still grades."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from graders.export import ExportError, export

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("export") / "k8s-101"
    export(dest)
    return dest


def test_the_export_holds_no_solution_and_no_project_tests(exported: Path) -> None:
    names = {p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file()}
    assert not [n for n in names if n.startswith(("tests/", "scripts/", ".ci/"))]
    assert ".github/workflows/classroom.yml" in names and ".github/workflows/ci.yml" not in names
    assert {"labs/1.1/README.md", "labs/1.1/my-first-pod.yaml", "labs/1.1/app-with-sidecar.yaml",
            "labs/1.1/test_lab_1_1.py", "conftest.py", "pytest.ini", "pyproject.toml", "requirements.txt",
            "kind-config.yaml"} <= names
    every_labs_files = {p.relative_to(REPO).as_posix() for p in (REPO / "labs").rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts}
    assert every_labs_files <= names  # each lab's README, starter and rubric, whatever labs there are
    assert "-e ." in (exported / "requirements.txt").read_text().splitlines()  # the graders as a pytest plugin
    assert ".grades/" in (exported / ".gitignore").read_text().splitlines()
    solutions = {hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in (REPO / "tests" / "submissions").rglob("*") if p.is_file()}
    assert not [p for p in exported.rglob("*")
                if p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() in solutions]


def test_the_export_readme_is_for_students(exported: Path) -> None:
    readme = (exported / "README.md").read_text()
    assert "## For students" in readme and "pytest labs/1.1" in readme
    assert "## For maintainers" not in readme and "## For instructors" not in readme


def test_pytest_labs_1_1_runs_in_the_export(exported: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "labs/1.1", "--backend", "podman", "-q"],
                            cwd=exported, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout  # the untouched starter does not pass
    assert "grade: lab 1.1 What is a Pod?" in result.stdout
    assert "Score: " in result.stdout and "Traceback" not in result.stdout


def test_an_export_that_would_hold_a_solution_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in ("labs", "graders", "tests/submissions", ".github"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-r", str(REPO / name), str(repo / name)], check=True)
    for name in ("conftest.py", "pytest.ini", "pyproject.toml", "kind-config.yaml", "requirements.txt", ".gitignore",
                 "README.md"):
        (repo / name).write_bytes((REPO / name).read_bytes())
    (repo / "labs/1.1/solution.yaml").write_bytes(
        (REPO / "tests/submissions/1.1/reference/app-with-sidecar.yaml").read_bytes())
    with pytest.raises(ExportError, match="labs/1.1/solution.yaml"):
        export(tmp_path / "out", repo=repo)
    assert not (tmp_path / "out").exists()
