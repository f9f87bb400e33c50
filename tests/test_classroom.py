"""GitHub Classroom: the workflow generated from the rubric, scoring from one report, workflow schemas."""

from __future__ import annotations

import base64
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
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml")) + [REPO / classroom.WORKFLOW]
REPORT = "${{ runner.temp }}/grades/lab-1.1.json"
# the lab folders on disk, in lab order: the workflow must grade each, with nothing listed by hand
LAB_IDS = sorted((path.parent.name for path in REPO.glob("labs/*/test_lab_*.py")),
                 key=lambda lab_id: [int(part) for part in lab_id.split(".")])


def test_the_committed_classroom_workflow_is_the_generated_one() -> None:
    assert classroom.main(["write", "--check"]) == 0, "run `python -m graders.classroom write`"


def test_the_check_notices_a_hand_edited_workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "labs", tmp_path / "labs")
    shutil.copytree(REPO / ".github", tmp_path / ".github")
    target = tmp_path / classroom.WORKFLOW
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
    labs = [lab for _, lab in discover_labs(REPO)]
    assert [lab.id for lab in labs] == LAB_IDS
    graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    expected = [(f"lab-{lab.id.replace('.', '-')}-{check.id}", check.points, lab, check)
                for lab in labs for check in lab.checks]
    assert [(s["id"], s["with"]["max-score"]) for s in graders] == [(sid, points) for sid, points, _, _ in expected]
    assert sum(s["with"]["max-score"] for s in graders) == 100 * len(labs)
    for step, (_, _, lab, check) in zip(graders, expected, strict=True):
        report = REPORT.replace("lab-1.1.json", f"lab-{lab.id}.json")
        assert step["with"]["command"] == f"python -m graders.classroom score {report} {check.id}"
        assert step["with"]["timeout"] == 1  # minutes: the step only reads a file
        assert "env" not in step  # the command grader would not pass it on


def test_the_lab_is_graded_once_and_the_reporter_lists_every_scored_step() -> None:
    steps = classroom_job()["steps"]
    runs = [s.get("run", "") for s in steps]
    for lab_id in LAB_IDS:
        assert sum(f"python -m graders.classroom grade {lab_id} " in run for run in runs) == 1
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
    assert "## Lab 1.1: not graded" in text and "10/30" not in text  # a check hit an infrastructure error
    assert "| `manifests` YAML is fine | ✅ passed | 10/10 |  |" in text
    assert "| `first-pod-ready` Ready \\| fast | ❌ failed | 0/15 | Expected: Ready<br>Observed: ErrImagePull |" in text
    assert "⚠️ not graded" in text
    assert "missing.json: not graded" in text
    path = report(tmp_path)
    grade = json.loads(path.read_text())
    grade["checks"] = grade["checks"][:2]
    path.write_text(json.dumps(grade))
    assert classroom.summary([path]).startswith("## Lab 1.1: 10/30 points")


# -- no false scores --------------------------------------------------------------------------------
def steps_by_name(steps: list[dict]) -> dict[str, dict]:
    return {step.get("name", step.get("uses", "")): step for step in steps}


def test_this_repository_never_runs_the_classroom_workflow() -> None:
    """Only the export puts it in .github/workflows/: here it would grade the starter on every push."""
    assert not (REPO / classroom.EXPORTED_WORKFLOW).exists()
    for workflow in (REPO / ".github" / "workflows").glob("*.yml"):
        text = workflow.read_text()
        if "autograding-command-grader" in text:  # CI's copy of the steps grades the reference, not the starter
            jobs = yaml.safe_load(text)["jobs"]
            assert [name for name, job in jobs.items() if "autograding-command-grader" in str(job)] == ["classroom"]


def test_ci_runs_the_generated_steps_on_the_reference_and_expects_full_marks() -> None:
    ci = yaml.safe_load((REPO / classroom.CI_WORKFLOW).read_text())["jobs"]["classroom"]["steps"]
    steps = classroom_job()["steps"]
    assert ci[0]["uses"] == steps[0]["uses"] == "actions/checkout@v5"
    assert ci[1]["run"].strip().splitlines() == [f"cp tests/submissions/{lab_id}/reference/*.yaml labs/{lab_id}/"
                                                 for lab_id in LAB_IDS]
    assert ci[2:-1] == steps[1:]  # the same steps, in the same order
    assert ci[-1]["run"].startswith(
        f"python -m graders.classroom points --expect {100 * len(LAB_IDS)} lab-1-1-manifests ")


def images_step(steps: dict[str, dict]) -> dict:
    return next(s for name, s in steps.items() if name.startswith("Pull the lab images"))


def test_setup_failures_and_errors_give_no_score_and_an_annotation() -> None:
    steps = steps_by_name(classroom_job()["steps"])
    cluster = steps["Create the kind cluster (pinned kind and node image, kind-config.yaml)"]
    images = images_step(steps)
    grade = steps["Grade lab 1.1 (What is a Pod?)"]
    assert cluster["continue-on-error"] and images["continue-on-error"]  # the grading step reports them
    assert (cluster["timeout-minutes"], images["timeout-minutes"], grade["timeout-minutes"]) == (10, 10, 15)
    assert "continue-on-error" not in grade  # when it fails, no scored step and no reporter run
    unfinished = steps["No score when grading did not finish"]
    assert unfinished["if"].startswith("failure()") and "not-graded" in unfinished["run"]
    order = list(steps)
    assert order.index("No score when grading did not finish") < order.index("Autograding Reporter")
    assert "if" not in steps["Autograding Reporter"]  # skipped after any failure: no score at all


def test_grading_never_depends_on_loading_images_into_kind() -> None:
    """Issue 19 item 1: on Docker 29 (ubuntu-latest, runner-images #13474) `kind load docker-image` fails
    (kind #3795), and main's workflow then graded nothing. Images are pulled inside the node, through its
    mirror, and only ahead of time: the grading step does not even look at that step's outcome."""
    steps = steps_by_name(classroom_job()["steps"])
    images = images_step(steps)
    assert "crictl pull" in images["run"] and "docker exec k8s-101-control-plane" in images["run"]
    text = (REPO / classroom.WORKFLOW).read_text()
    assert "kind load" not in text and "docker save" not in text and "docker pull" not in text
    for lab_id in LAB_IDS:
        grade = steps[next(name for name in steps if name.startswith(f"Grade lab {lab_id} "))]
        assert grade["env"]["SETUP"] == "cluster=${{ steps.cluster.outcome }}"


def test_the_image_step_succeeds_when_every_pull_and_load_fails(tmp_path: Path) -> None:
    """Its script as the runner runs it (bash -e), with a docker and a kind that fail every command."""
    for tool in ("docker", "kind", "crictl"):
        (tmp_path / tool).write_text("#!/bin/sh\necho \"$0 $*: failed\" >&2\nexit 1\n")
        (tmp_path / tool).chmod(0o755)
    script = images_step(steps_by_name(classroom_job()["steps"]))["run"]
    result = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True,
                            env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("::warning::could not pull") == 2  # nginx and busybox, each said once


def test_reports_live_under_runner_temp_and_caches_save_always() -> None:
    text = (REPO / classroom.WORKFLOW).read_text()
    assert ".grades" not in text and "${{ runner.temp }}/grades/" in text
    assert ".grades/" in (REPO / ".gitignore").read_text().splitlines()
    steps = classroom_job()["steps"]
    uses = {s["uses"].split("@")[0]: s["uses"].split("@")[1] for s in steps if "uses" in s}
    assert uses["actions/checkout"] == "v5" and uses["actions/setup-python"] == "v6"
    assert uses["actions/cache/restore"] == uses["actions/cache/save"] == "v5" and "actions/cache" not in uses
    assert "cache" not in steps_by_name(steps)["Set up Python"]["with"]  # setup-python saves only on success
    saves = [s for s in steps if s.get("uses", "").startswith("actions/cache/save")]
    assert len(saves) == 2 and all(s["if"].startswith("always()") for s in saves)


def test_the_export_puts_the_workflow_in_place(tmp_path: Path) -> None:
    from graders.export import export
    export(tmp_path / "copy")
    assert (tmp_path / "copy" / classroom.EXPORTED_WORKFLOW).read_text() == (REPO / classroom.WORKFLOW).read_text()


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the workflow grades from the root of the student's repository


@pytest.mark.podman
def test_grade_gives_a_score_for_failed_checks(tmp_path: Path, in_repo: None,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "grades" / "lab-1.1.json"
    wrong = REPO / "tests" / "submissions" / "1.1" / "missing-label"
    status = classroom.grade("1.1", report, "cluster=success",
                             ["--backend", "podman", "--submission", str(wrong)])
    assert status == 0  # a student's failures are a grade
    assert json.loads(report.read_text())["score"] < 100
    assert "attempt 2" not in capfd.readouterr().out


def test_grade_retries_an_infrastructure_error_once_then_reports_no_score(
        tmp_path: Path, in_repo: None, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no podman: every check that needs it is `error`
    report = tmp_path / "grades" / "lab-1.1.json"
    reference = REPO / "tests" / "submissions" / "1.1" / "reference"
    status = classroom.grade("1.1", report, "cluster=success",
                             ["--backend", "podman", "--submission", str(reference)])
    out = capfd.readouterr().out
    assert status == 1
    assert "attempt 1: not graded" in out and "attempt 2: not graded" in out and "attempt 3" not in out
    assert "podman is not installed" in out
    annotation = classroom.not_graded([report])
    assert annotation.startswith("::error title=Not graded (no points lost)::")
    assert "podman is not installed" in annotation and "Re-run the job" in annotation
    text = classroom.summary([report])
    assert "## Lab 1.1: not graded" in text and "Re-run the job" in text and "points" not in text.splitlines()[0]


def test_grade_does_not_run_when_setup_failed(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "lab-1.1.json"
    report.write_text('{"checks": []}')  # a stale report must not count
    assert classroom.grade("1.1", report, "cluster=failure") == 1
    assert "grading attempt" not in capfd.readouterr().out
    assert "cluster=failure" in classroom.not_graded([report])
    assert "not graded" in classroom.summary([tmp_path / "lab-1.1.json.missing"])


def command_grader_result(status: str, max_score: int) -> str:
    """What autograding-command-grader@v1 puts in its `result` output (src/main.js, generateResult)."""
    result = {"version": 1, "status": status, "max_score": max_score, "tests": [
        {"name": "x", "status": status, "score": max_score if status == "pass" else 0, "message": "",
         "test_code": "", "filename": "", "line_no": 0, "duration": 1}]}
    return base64.b64encode(json.dumps(result).encode()).decode()


def test_points_adds_up_as_the_reporter_does(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LAB-1-1-A_RESULTS", command_grader_result("pass", 60))
    monkeypatch.setenv("LAB-1-1-B_RESULTS", command_grader_result("pass", 40))
    assert classroom.main(["points", "--expect", "100", "lab-1-1-a", "lab-1-1-b"]) == 0
    assert "Points 100/100" in capsys.readouterr().out
    monkeypatch.setenv("LAB-1-1-B_RESULTS", command_grader_result("fail", 40))
    assert classroom.main(["points", "--expect", "100", "lab-1-1-a", "lab-1-1-b"]) == 1
    assert "Points 60/100" in capsys.readouterr().out


def test_on_github_actions_only_the_pinned_kind_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graders.backends.kind_binary import kind_on_path
    newer = KIND_VERSION.lstrip("v").split(".")
    newer[1] = str(int(newer[1]) + 1)
    kind = tmp_path / "kind"
    kind.write_text(f"#!/bin/sh\necho 'kind v{'.'.join(newer)} go1.25 linux/amd64'\n")
    kind.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert kind_on_path()[0] == str(kind)  # newer than the pin: fine on a student's machine
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert kind_on_path()[0] is None  # the runner's latest kind is not the pin: download the pin
    kind.write_text(f"#!/bin/sh\necho 'kind {KIND_VERSION} go1.25 linux/amd64'\n")
    assert kind_on_path()[0] == str(kind)
