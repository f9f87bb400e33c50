"""The student-facing export for a Classroom template: no answers inside, and it still grades."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def course_clone(tmp_path: Path) -> Path:
    """A clone of this repository as committed: the instructor's own checkout of the course."""
    repo = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(repo)], check=True, capture_output=True)
    return repo


def commit(repo: Path, message: str) -> None:
    git = ["git", "-C", str(repo), "-c", "user.name=instructor", "-c", "user.email=instructor@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", message], check=True)


def test_an_export_ships_what_is_committed_not_the_working_tree(tmp_path: Path) -> None:
    repo = course_clone(tmp_path)
    committed = (repo / "graders" / "lab.py").read_bytes()
    (repo / "graders" / "lab.py").write_text("# work in progress of the instructor's\n")
    (repo / "graders" / "scratch.py").write_text("# not committed\n")
    done = export(tmp_path / "out", repo=repo)
    assert (tmp_path / "out" / "graders" / "lab.py").read_bytes() == committed
    assert not (tmp_path / "out" / "graders" / "scratch.py").exists()
    assert done.left_out == ["graders/lab.py (modified)", "graders/scratch.py (untracked)"]
    assert done.commit == subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                                         text=True, check=True).stdout.strip()
    assert done.starters["1.1"] == ["app-with-sidecar.yaml", "my-first-pod.yaml"]


@pytest.mark.parametrize("change", ["solved", "untracked"])
def test_uncommitted_changes_under_labs_are_refused(tmp_path: Path, change: str) -> None:
    """An instructor who solved a lab in their checkout: the export names the files and says what to do."""
    repo = course_clone(tmp_path)
    if change == "solved":
        for path in (REPO / "tests/submissions/1.1/reference").glob("*.yaml"):
            (repo / "labs/1.1" / path.name).write_text("# my own solution\n" + path.read_text())
        named = "labs/1.1/app-with-sidecar.yaml (modified), labs/1.1/my-first-pod.yaml (modified)"
    else:
        (repo / "labs/1.1/notes.yaml").write_text("kind: Pod\n")
        named = "labs/1.1/notes.yaml (untracked)"
    with pytest.raises(ExportError, match="labs/ has changes that are not committed") as refused:
        export(tmp_path / "out", repo=repo)
    assert named in str(refused.value) and "git stash -u" in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_a_committed_starter_that_is_solved_is_refused(tmp_path: Path) -> None:
    """Committed by mistake: a starter with the reference's Pods in other words, and so without a TODO."""
    repo = course_clone(tmp_path)
    reference = REPO / "tests/submissions/1.2/reference/web.yaml"
    parsed = yaml.safe_load(reference.read_text())
    (repo / "labs/1.2/web.yaml").write_text("# solved\n" + yaml.safe_dump(parsed, sort_keys=True))  # not byte-equal
    commit(repo, "oops: my solution")
    with pytest.raises(ExportError) as refused:
        export(tmp_path / "out", repo=repo)
    assert "labs/1.2/web.yaml equals the solution tests/submissions/1.2/reference/web.yaml" in str(refused.value)
    assert "the starter of lab 1.2 (web.yaml) holds no TODO" in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_an_export_that_would_hold_a_solution_is_refused(tmp_path: Path) -> None:
    repo = course_clone(tmp_path)
    (repo / "labs/1.1/solution.yaml").write_bytes(
        (REPO / "tests/submissions/1.1/reference/app-with-sidecar.yaml").read_bytes())
    commit(repo, "a solution, committed by mistake")
    with pytest.raises(ExportError, match="labs/1.1/solution.yaml equals the solution"):
        export(tmp_path / "out", repo=repo)
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_git_checkout_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "copy"
    shutil.copytree(REPO / "labs", repo / "labs")
    with pytest.raises(ExportError, match="not a git checkout"):
        export(tmp_path / "out", repo=repo)


def test_the_command_says_which_commit_and_which_starters_it_exported(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "graders.export", str(tmp_path / "out")], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.match(r"exported commit [0-9a-f]{12} \(\d+ files\) to ", result.stdout)
    assert "starters: lab 1.1: app-with-sidecar.yaml, my-first-pod.yaml; lab 1.2: web.yaml" in result.stdout
