"""Grading a submission never runs its code: the installed plugin, and the instructor's re-grade of a class."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from graders.export import export
from tests.grading import LAB, REFERENCE, REPO, SUBMISSIONS, grade_lab, grader_command
from tests.labs import find_labs, lab_by_id

EXAMPLE = lab_by_id(LAB.name)  # the lab the class below submits
CHECKS, VERDICTS = EXAMPLE.check_ids, EXAMPLE.verdicts

CONFTEST_SPY = "open({marker!r}, 'a').write({folder!r} + '\\n')\n"


def forge_conftests(folder: Path, marker: Path) -> None:
    """A conftest.py in folder and in its parent, each of which leaves a line in marker when imported."""
    for where in (folder.parent, folder):
        (where / "conftest.py").write_text(CONFTEST_SPY.format(marker=str(marker), folder=str(where)))


@pytest.mark.parametrize("form", ["--submission DIR", "--submission=DIR"])
def test_no_conftest_in_the_submission_or_its_parents_is_imported(pytester: pytest.Pytester, form: str) -> None:
    student = pytester.path / "class" / "alice"
    shutil.copytree(REFERENCE, student)
    marker = pytester.path / "imported.txt"
    forge_conftests(student, marker)
    option = ["--submission", str(student)] if form == "--submission DIR" else [f"--submission={student}"]
    result = grade_lab(pytester, "--backend", "podman", "-k", "manifests", *option)
    assert not marker.exists(), f"imported: {marker.read_text()} (is the plugin installed? `pip install -e .`)"
    result.stdout.fnmatch_lines(["*PASS*manifests*10/10*"])  # the reference was graded from DIR
    assert result.ret == 0


def test_without_the_installed_plugin_submission_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # as if the graders were not installed
    result = subprocess.run(grader_command("--backend", "podman", "-k", "manifests", "--submission", str(REFERENCE)),
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "--submission needs the graders installed as a pytest plugin" in result.stderr, result.stderr
    assert "pip install -r requirements.txt" in result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR


# -- the instructor's re-grade ----------------------------------------------------------------------
FORGING_CONFTEST = '''import pytest
open({marker!r}, "w").write("the student's conftest.py ran")

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"  # every check "passes"
    return report
'''


def student_repo(root: Path, name: str, yaml_from: Path | None) -> Path:
    """A student's repository as the Classroom template makes it (the export), with their YAML, committed."""
    repo = root / name
    export(repo)
    if yaml_from is not None:
        for path in yaml_from.glob("*.yaml"):
            shutil.copy(path, repo / "labs" / "1.1" / path.name)
    git = ["git", "-C", str(repo), "-c", "user.name=student", "-c", "user.email=student@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "my work"], check=True)
    return repo


def regrade(root: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graders.regrade", str(root), "--lab", "1.1", "--out", str(out),
                           *args], cwd=REPO, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """A class of exported student repositories, re-graded once on podman with 3 jobs."""
    base = tmp_path_factory.mktemp("class")
    root, out, marker = base / "student-repos", base / "out", base / "forged.txt"
    root.mkdir()
    student_repo(root, "correct", REFERENCE)
    student_repo(root, "image-typo", SUBMISSIONS / "image-typo")
    student_repo(root, "missing-label", SUBMISSIONS / "missing-label")
    forger = student_repo(root, "forger", None)  # the starter YAML, plus a conftest.py and a workflow that forge 100
    (forger / "labs" / "1.1" / "conftest.py").write_text(FORGING_CONFTEST.format(marker=str(marker)))
    workflow = forger / ".github" / "workflows" / "classroom.yml"
    workflow.write_text(workflow.read_text().replace("python -m graders.classroom score", "true ||"))
    linker = student_repo(root, "linker", None)  # links a solution file from elsewhere on the grading machine
    (linker / "labs" / "1.1" / "my-first-pod.yaml").unlink()
    (linker / "labs" / "1.1" / "my-first-pod.yaml").symlink_to(REFERENCE / "my-first-pod.yaml")
    shutil.rmtree(student_repo(root, "no-lab", None) / "labs")
    result = regrade(root, out, "--backend", "podman", "--jobs", "3")
    return result, out, marker


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


@pytest.mark.podman
def test_the_class_is_graded_from_its_yaml_alone(classroom) -> None:
    result, out, marker = classroom
    assert result.returncode == 0, result.stdout + result.stderr
    rows = gradebook(out)
    assert list(next(iter(rows.values()))) == ["student", "score", "max_score", *CHECKS, "status", "commit", "flags"]
    assert {name: (row["score"], row["status"]) for name, row in rows.items()} == {
        "correct": ("100", "graded"), "forger": ("0", "graded"), "image-typo": ("75", "graded"),
        "linker": ("0", "graded"), "missing-label": ("85", "graded"), "no-lab": ("0", "no-submission")}
    assert (rows["image-typo"]["first-pod-ready"], rows["image-typo"]["sidecar-ready"]) == ("0", "15")
    head = subprocess.run(["git", "-C", str(out.parent / "student-repos" / "correct"), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert rows["correct"]["commit"] == head
    assert not marker.exists(), "the forger's conftest.py ran"


@pytest.mark.podman
def test_edits_to_grader_files_are_flagged(classroom) -> None:
    _, out, _ = classroom
    rows = gradebook(out)
    assert rows["forger"]["flags"] == "changed .github/workflows/classroom.yml; added labs/1.1/conftest.py"
    assert rows["linker"]["flags"] == "labs/1.1/my-first-pod.yaml is not a regular file (not graded)"
    assert rows["no-lab"]["flags"] == "; ".join(  # no labs/ at all: every lab's rubric is missing
        f"missing {lab.folder.relative_to(REPO).as_posix()}/test_lab_{lab.id.replace('.', '_')}.py"
        for lab in find_labs())
    assert [name for name, row in rows.items() if row["flags"]] == ["forger", "linker", "no-lab"]


@pytest.mark.podman
def test_feedback_progress_and_full_reports(classroom) -> None:
    result, out, _ = classroom
    typo = (out / "feedback" / "image-typo.md").read_text()
    assert typo.startswith("# Lab 1.1 What is a Pod?: 75/100")
    assert VERDICTS["image-typo"]["first-pod-ready"] in typo and "Expected:" in typo and "Hint:" in typo
    assert "no `labs/1.1` folder" in (out / "feedback" / "no-lab.md").read_text()
    grades = json.loads((out / "grades.json").read_text())
    by_name = {s["student"]: s for s in grades["students"]}
    assert by_name["correct"]["report"]["score"] == 100 and by_name["correct"]["attempts"] == 1
    assert by_name["no-lab"]["report"] is None
    lines = result.stdout.splitlines()
    assert sorted(line.split("]")[0] for line in lines if line.startswith("[")) == [f"[{i}/6" for i in range(1, 7)]
    assert "5 graded, 0 error, 1 no-submission, 3 flagged" in lines[-1]


def test_an_infrastructure_error_is_retried_then_error_never_zero(tmp_path: Path) -> None:
    root = tmp_path / "student-repos"
    root.mkdir()
    student_repo(root, "correct", REFERENCE)
    env = {**os.environ, "PATH": str(tmp_path)}  # no podman on PATH
    result = regrade(root, tmp_path / "out", "--backend", "podman", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    row = gradebook(tmp_path / "out")["correct"]
    assert (row["score"], row["status"], row["manifests"]) == ("", "error", "")
    [student] = json.loads((tmp_path / "out" / "grades.json").read_text())["students"]
    assert student["attempts"] == 2 and "podman is not installed" in student["problem"]
    assert "will be graded again" in (tmp_path / "out" / "feedback" / "correct.md").read_text()


def test_on_kind_the_cluster_is_made_once_and_runs_reach_it_by_its_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel runs must not each call `kind export kubeconfig`: kind locks the file and fails the loser."""
    from graders import regrade as module
    calls: list[list[str]] = []

    def run(command: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "kind cluster k8s-101 is up", "")

    monkeypatch.setattr(module.subprocess, "run", run)
    args = module.argparse.Namespace(backend="kind", kind_cluster=None, context=None)
    extra, env = module.backend_args(args)
    assert calls == [[sys.executable, "-m", "graders.backends.kind", "k8s-101"]]
    assert extra == ["--backend", "context", "--context", "kind-k8s-101"]
    assert env is not None and env["KUBECONFIG"] == str(REPO / ".pytest-kind" / "k8s-101" / "kubeconfig")


@pytest.mark.podman
def test_a_run_over_its_time_is_stopped_as_on_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM, not SIGKILL: the graders then unwind and remove the run's Pods (test_podman_runs.py's
    SIGTERM test shows that they do). The run's time is up once it has made its Pods, whatever the machine's
    speed (a fixed 4 s once ended before a busy machine's graders had started, and the default action of
    SIGTERM killed them)."""
    from graders import regrade as module
    started: list[subprocess.Popen[str]] = []

    class OverItsTime(subprocess.Popen):
        """A run whose RUN_TIMEOUT ends while its graders run its Pods."""

        def communicate(self, input: Any = None, timeout: float | None = None) -> Any:
            if timeout == module.RUN_TIMEOUT and self.poll() is None:
                pods = ["podman", "pod", "ps", "-q", "--filter", f"label=k8s101.dev/pid={self.pid}"]
                deadline = time.monotonic() + 120
                while not subprocess.run(pods, capture_output=True, text=True).stdout.split():
                    assert self.poll() is None and time.monotonic() < deadline, "the run made no Pods"
                    time.sleep(0.2)
                raise subprocess.TimeoutExpired(self.args, timeout)
            return super().communicate(input, timeout)

    def start(*args: Any, **kw: Any) -> subprocess.Popen[str]:
        started.append(OverItsTime(*args, **kw))
        return started[-1]

    monkeypatch.setattr(module.subprocess, "Popen", start)
    submission = tmp_path / "submission"
    shutil.copytree(REFERENCE.parent / "sidecar-silent", submission)  # its wait for the log holds the run seconds
    report, problem = module.grade_once(submission, module.find_lab("1.1"), ["--backend", "podman"])
    assert (report, problem) == (None, f"the grading run took more than {module.RUN_TIMEOUT} s")
    assert started[0].returncode == pytest.ExitCode.INTERRUPTED  # unwound like Ctrl-C, not killed (-9, -15)


def test_flags_compare_with_the_template_when_given(tmp_path: Path) -> None:
    """A template exported before the instructor changed a grader: its students are not flagged for it."""
    from graders.regrade import reference_files, tripwire
    template = tmp_path / "template"
    export(template)
    (template / "graders" / "lab.py").write_text("# the graders as they were when the template was made\n")
    student = tmp_path / "student"
    shutil.copytree(template, student)
    assert tripwire(student, reference_files(template)) == []
    assert tripwire(student, reference_files()) == ["changed graders/lab.py"]
    (student / "labs" / "1.1" / "conftest.py").write_text("")
    assert tripwire(student, reference_files(template)) == ["added labs/1.1/conftest.py"]
