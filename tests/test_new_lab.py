"""`python -m graders.new_lab`, on a copy of this repository: the new lab is whole (README, starter, rubric,
reference, verdicts, regenerated workflows and README list), the project's tests pick it up with no other
edit, its untouched starter is refused offline, and a taken or malformed id writes nothing."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders import classroom, lab_images
from graders.new_lab import IMAGE, IMAGE_NAME, TEST_COMMAND, NewLabError, new_lab
from graders.rubric import discover_labs
from tests.labs import REPO

# The new lab's id: one no real lab has, so that an author who adds the next lab (1.3) the documented way
# keeps this test green (issue 22, author 1). A real lab's id is taken by definition.
REAL = sorted(lab.id for _, lab in discover_labs(REPO))
NEW = next(f"9.{n}" for n in itertools.count(1) if f"9.{n}" not in REAL
           and not (REPO / "tests" / "submissions" / f"9.{n}").exists())
NEW_FILE = NEW.replace(".", "_")
TAKEN = REAL[0]
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest-kind", ".grades", "*.egg-info")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with lab NEW added by the command, as an author runs it."""
    repo = tmp_path_factory.mktemp("new-lab") / "repo"
    shutil.copytree(REPO, repo, ignore=NOT_COPIED)
    real = tree(REPO / "labs")
    result = subprocess.run([sys.executable, "-m", "graders.new_lab", NEW, "Labels and selectors",
                             "--repo", str(repo)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"wrote labs/{NEW}/test_lab_{NEW_FILE}.py" in result.stdout
    assert f"`{TEST_COMMAND.format(lab_id=NEW)}`" in result.stdout  # the README's command (issue 22, author 5)
    assert tree(REPO / "labs") == real  # the real repository is left alone
    return repo


def pytest_in(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-p", "no:randomly"], cwd=repo,
                          capture_output=True, text=True, timeout=300, env=env)


def test_the_lab_has_every_part_and_a_rubric_of_100_points(copy: Path) -> None:
    labs = {lab.id: (folder, lab) for folder, lab in discover_labs(copy)}
    folder, lab = labs[NEW]
    assert (folder, lab.title) == (copy / "labs" / NEW, "Labels and selectors")
    assert sum(check.points for check in lab.checks) == 100
    readme = (folder / "README.md").read_text()
    for heading in (f"# Lab {NEW}: Labels and selectors", "## Part 1: ", "## Check your work", "## Clean up"):
        assert heading in readme
    assert "TODO (author)" in readme and f"pytest labs/{NEW}" in readme
    assert "image: TODO" in (folder / "web.yaml").read_text()
    assert lab_images.read(folder) == {IMAGE_NAME: IMAGE}  # the images it runs, declared once, beside the rubric
    assert (copy / f"tests/submissions/{NEW}/reference/web.yaml").is_file()
    assert "TODO" not in (copy / f"tests/submissions/{NEW}/reference/web.yaml").read_text()


def test_what_the_labs_generate_is_regenerated(copy: Path) -> None:
    assert classroom.write_generated(copy, check=True) == 0
    assert f"python -m graders.classroom grade {NEW} " in (copy / classroom.WORKFLOW).read_text()
    assert f"cp tests/submissions/{NEW}/reference/*.yaml labs/{NEW}/" in (copy / classroom.CI_WORKFLOW).read_text()
    assert (f"| [{NEW}](labs/{NEW}/README.md) | Labels and selectors | Write one Pod, `web`,"
            in (copy / "README.md").read_text())


def test_the_projects_tests_pick_it_up_with_no_other_edit(copy: Path) -> None:
    tables = pytest_in(copy, "tests/test_labs.py", "-m", "not podman", "-v")
    assert tables.returncode == 0, tables.stdout
    assert f"test_the_table_names_the_rubrics_checks_and_its_points_sum_to_100[{NEW}] PASSED" in tables.stdout
    collected = pytest_in(copy, "tests/test_labs_podman.py", "tests/test_fake_cluster_parity.py", "--collect-only",
                          "-q").stdout
    for test in (f"test_labs_podman.py::test_submission_gets_the_expected_verdict[{NEW}/reference]",
                 f"test_labs_podman.py::test_only_selected_checks_are_reported[{NEW}]",
                 f"test_fake_cluster_parity.py::test_same_verdict_as_on_podman[{NEW}/reference]"):
        assert test in collected


def test_the_untouched_starter_is_refused_offline_and_nothing_starts(copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    for tool in ("podman", "kind", "docker"):
        (tmp_path / tool).write_text(f"#!/bin/sh\necho \"{tool} $*\" >> '{log}'\nexit 1\n")
        (tmp_path / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    report = tmp_path / "grade.json"
    result = pytest_in(copy, f"labs/{NEW}", "--backend", "podman", "--grade-report", str(report), env=env)
    assert not log.exists(), f"a backend was started: {log.read_text()}"
    grade = json.loads(report.read_text())
    assert (grade["lab"], grade["score"], grade["max_score"], result.returncode) == (NEW, 0, 100, 1)
    assert {check["status"] for check in grade["checks"]} == {"failed"}
    assert "not started yet: web.yaml still holds 2 TODOs:" in grade["checks"][0]["message"]
    assert re.search(r"web\.yaml, line \d+: image: TODO", grade["checks"][0]["message"])
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize(("lab_id", "title", "message"), [
    (TAKEN, "Again", f"lab {TAKEN} exists already (labs/{TAKEN}, tests/submissions/{TAKEN}): choose another id"),
    (NEW, "Twice", f"lab {NEW} exists already"),
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
    result = subprocess.run([sys.executable, "-m", "graders.new_lab", TAKEN, "Again", "--repo", str(copy)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"new_lab: lab {TAKEN} exists already")


def test_the_next_step_it_prints_is_the_readmes_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert TEST_COMMAND.format(lab_id="1.2") + "   #" in readme


def test_the_pod_and_container_names_are_options(tmp_path: Path) -> None:
    """The skeleton's Pod (its file too) and container are named by --pod and --container (issue 22, author 3);
    its table has the header of labs 1.1 and 1.2."""
    import yaml

    from graders import new_lab as skeleton

    rubric = skeleton.rubric("9.8", "Shops", pod="shop", container="app-server")
    compile(rubric, "test_lab_9_8.py", "exec")  # valid Python with the names as constants
    assert 'SHOP, APP_SERVER = "shop", "app-server"' in rubric
    assert "lifecycle.deleted_cleanly(lab_run, [SHOP])" in rubric
    starter = yaml.safe_load(skeleton.starter("9.8", "Shops", pod="shop", container="app-server"))
    assert (starter["metadata"]["name"], starter["spec"]["containers"][0]["name"]) == ("shop", "app-server")
    readme = skeleton.readme("9.8", "Shops", pod="shop", container="app-server")
    header = "| Id | Points | Passes when |\n|----|-------:|-------------|"
    assert header in readme
    assert "`labs/9.8/shop.yaml`" in readme and "web" not in readme.replace("web server", "")
    for lab in ("1.1", "1.2"):
        assert header in (REPO / "labs" / lab / "README.md").read_text()
    with pytest.raises(NewLabError, match="'Shop_1' is no Pod name"):
        new_lab("9.8", "Shops", repo=tmp_path, pod="Shop_1")
    assert list(tmp_path.iterdir()) == []
