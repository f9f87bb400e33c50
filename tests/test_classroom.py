"""GitHub Classroom: the workflow generated from the rubric, scoring from one report, workflow schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders import classroom
from graders.rubric import discover_labs
from graders.versions import KIND_NODE_IMAGE, KIND_VERSION

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_the_committed_classroom_workflow_is_the_generated_one() -> None:
    assert classroom.main(["write", "--check"]) == 0, "run `python -m graders.classroom write`"


def test_the_check_notices_a_hand_edited_workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "labs", tmp_path / "labs")
    target = tmp_path / classroom.WORKFLOW
    target.parent.mkdir(parents=True)
    target.write_text((REPO / classroom.WORKFLOW).read_text().replace("max-score: 20", "max-score: 25"))
    monkeypatch.setattr(classroom, "REPO", tmp_path)
    assert classroom.main(["write", "--check"]) == 1
    assert classroom.main(["write"]) == 0
    assert classroom.main(["write", "--check"]) == 0


def classroom_job() -> dict:
    workflow = yaml.safe_load((REPO / classroom.WORKFLOW).read_text())
    assert workflow["name"] == "Autograding Tests"
    assert workflow["on"] == ["push", "repository_dispatch"]
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert list(workflow["jobs"]) == ["run-autograding-tests"]
    return workflow["jobs"]["run-autograding-tests"]


def test_one_scored_step_per_check_with_its_points() -> None:
    steps = classroom_job()["steps"]
    [(_, lab)] = discover_labs(REPO)
    graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    assert [(s["id"], s["with"]["max-score"]) for s in graders] == [
        (f"lab-1-1-{check.id}", check.points) for check in lab.checks]
    assert sum(s["with"]["max-score"] for s in graders) == 100
    for step, check in zip(graders, lab.checks):
        assert step["with"]["command"] == f"python -m graders.classroom score .grades/lab-1.1.json {check.id}"
        assert step["with"]["timeout"] == 1  # minutes: the step only reads a file
        assert "env" not in step  # the command grader would not pass it on


def test_the_lab_is_graded_once_and_the_reporter_lists_every_scored_step() -> None:
    steps = classroom_job()["steps"]
    runs = [s.get("run", "") for s in steps]
    assert sum("pytest labs/1.1" in run for run in runs) == 1
    assert sum("python -m graders.backends.kind" in run for run in runs) == 1
    ids = [s["id"] for s in steps if "autograding-command-grader" in s.get("uses", "")]
    [reporter] = [s for s in steps if "autograding-grading-reporter" in s.get("uses", "")]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {f"{sid.upper()}_RESULTS": f"${{{{steps.{sid}.outputs.result}}}}" for sid in ids}
    assert any("GITHUB_STEP_SUMMARY" in run for run in runs)


def test_kind_pins_have_one_source() -> None:
    """Workflows read the kind version and node image from graders/versions.py at run time."""
    for workflow in WORKFLOWS:
        text = workflow.read_text()
        assert KIND_VERSION not in text and KIND_NODE_IMAGE.split("@")[1] not in text, workflow.name


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflows_validate_against_githubs_schema(workflow: Path) -> None:
    tool = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(tool), "--builtin-schema", "vendor.github-workflows", str(workflow)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def report(tmp_path: Path) -> Path:
    path = tmp_path / "grade.json"
    path.write_text(json.dumps({"lab": "1.1", "score": 10, "max_score": 30, "checks": [
        {"id": "manifests", "title": "YAML is fine", "points": 10, "max_points": 10, "passed": True,
         "status": "passed", "message": ""},
        {"id": "first-pod-ready", "title": "Ready | fast", "points": 0, "max_points": 15, "passed": False,
         "status": "failed", "message": "Expected: Ready\nObserved: ErrImagePull"},
        {"id": "cleanup", "title": "Gone", "points": 0, "max_points": 5, "passed": False, "status": "error",
         "message": "Infrastructure problem (no points lost): podman did not answer"}]}))
    return path


def test_score_exits_0_only_for_a_passed_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = report(tmp_path)
    assert classroom.main(["score", str(path), "manifests"]) == 0
    assert classroom.main(["score", str(path), "first-pod-ready"]) == 1
    assert "Observed: ErrImagePull" in capsys.readouterr().out  # the Actions log shows why
    assert classroom.main(["score", str(path), "cleanup"]) == 1
    assert classroom.main(["score", str(path), "no-such-check"]) == 1
    assert classroom.main(["score", str(tmp_path / "missing.json"), "manifests"]) == 1
    assert "the grading step stopped before grading" in capsys.readouterr().out


def test_summary_is_a_markdown_table(tmp_path: Path) -> None:
    text = classroom.summary([report(tmp_path), tmp_path / "missing.json"])
    assert "## Lab 1.1: 10/30 points" in text
    assert "| `manifests` YAML is fine | ✅ passed | 10/10 |  |" in text
    assert "| `first-pod-ready` Ready \\| fast | ❌ failed | 0/15 | Expected: Ready<br>Observed: ErrImagePull |" in text
    assert "⚠️ not graded" in text
    assert "missing.json: not graded" in text
