"""Grading a submission never runs its code: the installed plugin, and the instructor's re-grade of a class."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from graders.export import export
from tests import browser
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
GIT_AS_STUDENT = ["-c", "user.name=student", "-c", "user.email=student@example.com"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *GIT_AS_STUDENT, *args], check=True, capture_output=True,
                          text=True).stdout


def student_repo(root: Path, name: str, work: dict[str, Path | None] | None = None, template: Path | None = None
                 ) -> Path:
    """A student's repository as GitHub Classroom makes it: a first commit of the template (the export, or a
    copy of `template`), then the student's commit with their YAML (work: lab -> a submission folder)."""
    repo = root / name
    if template is None:
        export(repo)
    else:
        shutil.copytree(template, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial commit")
    for lab, folder in (work or {}).items():
        for path in folder.glob("*.yaml") if folder else []:
            shutil.copy(path, repo / "labs" / lab / path.name)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "my work")
    return repo


def regrade(root: Path, out: Path, *args: str, env: dict[str, str] | None = None,
            labs: tuple[str, ...] = ("1.1",)) -> subprocess.CompletedProcess[str]:
    lab_args = [arg for lab in labs for arg in ("--lab", lab)]
    return subprocess.run([sys.executable, "-m", "graders.regrade", str(root), *lab_args, "--out", str(out), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=900, env=env)


LAB_1_2 = REPO / "tests" / "submissions" / "1.2"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """A class of exported student repositories, re-graded once for every lab (`--lab all`) on podman."""
    base = tmp_path_factory.mktemp("class")
    root, out, marker = base / "student-repos", base / "out", base / "forged.txt"
    root.mkdir()
    student_repo(root, "correct", {"1.1": REFERENCE, "1.2": LAB_1_2 / "reference"})
    student_repo(root, "image-typo", {"1.1": SUBMISSIONS / "image-typo"})  # lab 1.2 untouched: not started
    student_repo(root, "missing-label", {"1.1": SUBMISSIONS / "missing-label", "1.2": LAB_1_2 / "missing-annotation"})
    student_repo(root, "crash-a", {"1.1": SUBMISSIONS / "sidecar-exits"})  # the same mistake twice:
    student_repo(root, "crash-b", {"1.1": SUBMISSIONS / "sidecar-exits"})  # one reason of two students
    forger = student_repo(root, "forger")  # the starter YAML, plus a conftest.py and a workflow that forge 100
    (forger / "labs" / "1.1" / "conftest.py").write_text(FORGING_CONFTEST.format(marker=str(marker)))
    workflow = forger / ".github" / "workflows" / "classroom.yml"
    workflow.write_text(workflow.read_text().replace("python -m graders.classroom score", "true ||"))
    images = forger / "labs" / "1.2" / "images.json"  # busybox accepted where the rubric expects nginx
    images.write_text(images.read_text().replace("nginx:1.25", "busybox:1.36"))
    linker = student_repo(root, "linker")  # links a solution file from elsewhere on the grading machine
    (linker / "labs" / "1.1" / "my-first-pod.yaml").unlink()
    (linker / "labs" / "1.1" / "my-first-pod.yaml").symlink_to(REFERENCE / "my-first-pod.yaml")
    no_lab = student_repo(root, "no-lab")
    shutil.rmtree(no_lab / "labs")
    result = regrade(root, out, "--backend", "podman", "--jobs", "4", labs=("all",))
    return result, out, marker


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as file:
        return {row["student_repository_name"]: row for row in csv.DictReader(file)}


CHECKS_1_2 = lab_by_id("1.2").check_ids


@pytest.mark.podman
def test_the_class_is_graded_from_its_yaml_alone_for_every_lab(classroom) -> None:
    result, out, marker = classroom
    assert result.returncode == 0, result.stdout + result.stderr
    rows = gradebook(out)
    assert list(next(iter(rows.values()))) == [
        "student_repository_name", "total", "max_total",
        "1.1", "1.1 status", *(f"1.1:{c}" for c in CHECKS), "1.2", "1.2 status", *(f"1.2:{c}" for c in CHECKS_1_2),
        "commit", "flags"]
    assert {name: (row["1.1"], row["1.1 status"], row["1.2"], row["1.2 status"], row["total"])
            for name, row in rows.items()} == {
        "correct": ("100", "graded", "100", "graded", "200"),
        "crash-a": ("45", "graded", "0", "not-started", "45"),
        "crash-b": ("45", "graded", "0", "not-started", "45"),
        "forger": ("0", "not-started", "0", "not-started", "0"),  # its files are the starter's: not run at all
        "image-typo": ("75", "graded", "0", "not-started", "75"),
        "linker": ("0", "graded", "0", "not-started", "0"),  # it changed a file (by a link): graded, and refused
        "missing-label": ("85", "graded", "90", "graded", "175"),
        "no-lab": ("0", "no-submission", "0", "no-submission", "0")}
    assert {row["max_total"] for row in rows.values()} == {"200"}
    assert (rows["image-typo"]["1.1:first-pod-ready"], rows["image-typo"]["1.1:sidecar-ready"]) == ("0", "15")
    assert rows["image-typo"]["1.2:metadata"] == ""  # not started: no check was run
    assert rows["correct"]["commit"] == git(out.parent / "student-repos" / "correct", "rev-parse", "HEAD").strip()
    assert not marker.exists(), "the forger's conftest.py ran"


@pytest.mark.podman
def test_only_what_the_student_changed_since_their_first_commit_is_flagged(classroom) -> None:
    _, out, _ = classroom
    rows = gradebook(out)
    assert rows["forger"]["flags"] == ("changed .github/workflows/classroom.yml; changed labs/1.2/images.json; "
                                       "added labs/1.1/conftest.py")
    assert rows["linker"]["flags"] == "labs/1.1/my-first-pod.yaml is not a regular file (not graded)"
    assert rows["no-lab"]["flags"] == "; ".join(  # the student removed labs/: every rubric and image list given
        f"removed {lab.folder.relative_to(REPO).as_posix()}/{name}" for lab in find_labs()
        for name in ("images.json", f"test_lab_{lab.id.replace('.', '_')}.py"))
    assert [name for name, row in rows.items() if row["flags"]] == ["forger", "linker", "no-lab"]
    grades = json.loads((out / "grades.json").read_text())
    assert {s["baseline"][:len("first commit ")] for s in grades["students"]} == {"first commit "}


@pytest.mark.podman
def test_the_summary_is_printed_with_the_numbers_of_grades_json_and_written_as_a_page(classroom, tmp_path) -> None:
    result, out, _ = classroom
    grades = json.loads((out / "grades.json").read_text())
    for lab in grades["labs"]:
        for check in lab["checks"]:
            results = [s["labs"][lab["id"]]["report"]["checks"] for s in grades["students"]
                       if s["labs"][lab["id"]]["status"] == "graded"]
            mine = [next(c for c in checks if c["id"] == check["id"]) for checks in results]
            passed, lost = sum(c["passed"] for c in mine), sum(c["max_points"] - c["points"] for c in mine)
            line = f"{passed}/{len(mine)}, {round(100 * passed / len(mine))}%"
            assert re.search(rf"^    {re.escape(check['id'])} +{re.escape(line)} .* {lost} points? lost in all$",
                             result.stdout, re.MULTILINE), (lab["id"], check["id"], line, result.stdout)
    assert re.search(r"^    2 students  lab 1\.1 sidecar-ready, sidecar-localhost, sidecar-shared-volume "
                     r"\(−110 points in all\)\n.*\n.*\n         e\.g\. crash-a, crash-b$", result.stdout, re.MULTILINE)
    assert "Not started (their lab files are the starter's; 0 points):\n  crash-a (1.2), crash-b (1.2), " \
           "forger (1.1, 1.2), image-typo (1.2), linker (1.2)" in result.stdout
    assert "Flagged (grader files changed since their first commit" in result.stdout
    page = browser.render(out / "summary.html", tmp_path)
    assert page.rates("1.1") == browser.expected_rates(grades, "1.1")
    assert page.rates("1.2") == browser.expected_rates(grades, "1.2")


@pytest.mark.podman
def test_the_feedback_is_what_the_student_sees_in_the_terminal(classroom, pytester: pytest.Pytester) -> None:
    """The same code renders both: the failures (with their Read: link, each cause in full once) and the grade."""
    _, out, _ = classroom
    terminal = grade_lab(pytester, "--backend", "podman", "--submission", str(SUBMISSIONS / "image-typo")).stdout.str()
    typo = (out / "feedback" / "image-typo.md").read_text()
    assert typo.startswith("# Lab 1.1 What is a Pod?: 75/100\n")
    shown = typo[typo.index("```text\n") + 8:typo.index("\n```\n")]
    for block in shown.split("\n\n"):
        lines = block.splitlines()
        if lines[0].startswith("== grade: lab 1.1"):
            lines = lines[1:]  # pytest draws its own separator line there
        assert "\n".join(lines) in terminal, block
    assert "Read:     labs/1.1/README.md#part-1-your-first-pod" in shown
    assert "# Lab 1.2 Pod YAML anatomy: not started" in typo
    crash = (out / "feedback" / "crash-a.md").read_text()
    assert crash.count("Hint:     the container keeps exiting") == 1  # shown in full once, then pointed to
    assert crash.count("Observed: the same as [sidecar-ready] above") == 2
    assert crash.count("Read:     labs/1.1/README.md#part-2-a-pod-with-a-sidecar") == 3
    assert "Total: 45/200" in crash
    assert "no `labs/1.1` folder" in (out / "feedback" / "no-lab.md").read_text()
    assert "still the starter files" in (out / "feedback" / "forger.md").read_text()


MACHINE_FILES = re.compile(r"/etc/containers|/sys/fs/cgroup|/var/lib/containers|/run/libpod|/tmp/k8s101-")


@pytest.mark.podman
def test_the_feedback_names_no_file_of_the_grading_machine(classroom) -> None:
    """An image typo made podman name its registries.conf, and each Pod's events its cgroup: the student's
    feedback (and terminal) say what the submission did, in a cluster's terms, and nothing of the machine's."""
    _, out, _ = classroom
    texts = {path.name: path.read_text() for path in (out / "feedback").glob("*.md")}
    assert len(texts) == 8
    assert {name: MACHINE_FILES.findall(text) for name, text in texts.items()} == dict.fromkeys(texts, [])
    assert "ErrImagePull: nginx:1.255 not found" in texts["image-typo.md"]  # said as a cluster says it
    assert "short-name" not in texts["image-typo.md"]
    assert "pids limit" not in texts["crash-a.md"]  # the grader's bookkeeping is no event (issue 22, student 5)


@pytest.mark.podman
def test_progress_and_full_reports(classroom) -> None:
    result, out, _ = classroom
    grades = json.loads((out / "grades.json").read_text())
    by_name = {s["student"]: s for s in grades["students"]}
    assert by_name["correct"]["labs"]["1.1"]["report"]["score"] == 100
    assert by_name["correct"]["labs"]["1.1"]["attempts"] == 1 and by_name["correct"]["total"] == 200
    assert by_name["no-lab"]["labs"]["1.1"]["report"] is None
    assert by_name["forger"]["labs"]["1.2"] == {"status": "not-started", "score": 0, "attempts": 0, "seconds": 0.0,
                                                "problem": "labs/1.2 holds the starter files, unchanged",
                                                "report": None}
    lines = result.stdout.splitlines()  # not a terminal: one line per student as each finishes
    assert sorted(line.split("]")[0] for line in lines if line.startswith("[")) == [f"[{i}/8" for i in range(1, 9)]
    assert any(re.fullmatch(r"\[\d/8\] correct: lab 1\.1 100/100 graded \(\d+\.\d s\); lab 1\.2 100/100 graded "
                            r"\(\d+\.\d s\)", line) for line in lines), lines
    assert "8 graded, 6 not-started, 2 no-submission, 0 error, 3 flagged" in lines[-1]
    assert "summary.html" in lines[-1]


# -- what needs no grading run ----------------------------------------------------------------------
def test_an_untouched_repository_is_not_started_and_one_changed_byte_is_graded(tmp_path: Path) -> None:
    from graders.regrade import instructor_baselines, prepare
    given = instructor_baselines(None)
    untouched = student_repo(tmp_path, "untouched")
    tried = student_repo(tmp_path, "tried")
    starter = tried / "labs" / "1.1" / "my-first-pod.yaml"
    starter.write_text(starter.read_text() + "\n")
    no_history = tmp_path / "no-history"  # a repository without .git: compared with today's export
    export(no_history)
    labs = find_labs_by_id("1.1", "1.2")
    for repo, expected in ((untouched, set()), (tried, {"1.1"}), (no_history, set())):
        work = prepare(repo, labs, given)
        try:
            assert set(work.pending) == expected, repo.name
            assert {lab: grade.status for lab, grade in work.row.labs.items()} == {
                lab.id: "not-started" for lab in labs if lab.id not in expected}
        finally:
            shutil.rmtree(work.folder)


def test_the_course_moving_on_flags_nobody(tmp_path: Path) -> None:
    """Students who accepted an older template (no lab 1.2 yet, another workflow, another starter) are compared
    with their own first commit: they are neither flagged nor "started" for what the course changed since."""
    from graders.regrade import instructor_baselines, prepare
    old = tmp_path / "template-then"
    export(old)
    shutil.rmtree(old / "labs" / "1.2")
    workflow = old / ".github" / "workflows" / "classroom.yml"
    workflow.write_text(workflow.read_text() + "# the workflow as it was in September\n")
    starter = old / "labs" / "1.1" / "my-first-pod.yaml"
    starter.write_text("# the starter as it was\n" + starter.read_text())
    (tmp_path / "class").mkdir()
    untouched = student_repo(tmp_path / "class", "untouched", template=old)
    cheater = student_repo(tmp_path / "class", "cheater", template=old)
    (cheater / "graders" / "lab.py").write_text("# forged\n")
    given = instructor_baselines(None)
    labs = find_labs_by_id("1.1")
    work = prepare(untouched, labs, given)
    shutil.rmtree(work.folder)
    assert work.row.flags == [] and work.row.labs["1.1"].status == "not-started"
    assert work.row.baseline.startswith("first commit ")
    work = prepare(cheater, labs, given)
    shutil.rmtree(work.folder)
    assert work.row.flags == ["changed graders/lab.py"]


def test_without_history_the_template_given_is_the_baseline(tmp_path: Path) -> None:
    """A template exported before the instructor changed a grader: its students are not flagged for it."""
    from graders.tripwire import flags, folder_baseline
    template = tmp_path / "template"
    export(template)
    (template / "graders" / "lab.py").write_text("# the graders as they were when the template was made\n")
    student = tmp_path / "student"
    shutil.copytree(template, student)
    today = tmp_path / "today"
    export(today)
    assert flags(student, folder_baseline(template, "template")) == []
    assert flags(student, folder_baseline(today, "today's export")) == ["changed graders/lab.py"]
    (student / "labs" / "1.1" / "conftest.py").write_text("")
    (student / "pytest.ini").unlink()
    assert flags(student, folder_baseline(template, "template")) == ["removed pytest.ini", "added labs/1.1/conftest.py"]


def find_labs_by_id(*ids: str) -> list[Any]:
    from graders.regrade import find_labs as labs
    return labs(list(ids))


# -- a backend that cannot run grades nobody ----------------------------------------------------------
def test_a_kind_cluster_that_cannot_be_created_stops_the_regrade_at_once(tmp_path: Path, monkeypatch, capsys) -> None:
    """Tried twice, then the first cause, and nobody is graded (no second, misleading cause per student)."""
    from graders import regrade as module
    calls: list[str] = []

    def make(name: str) -> subprocess.CompletedProcess[str]:
        calls.append(name)
        return subprocess.CompletedProcess([], 1, "", "Infrastructure problem (no points lost): could not "
                                           "download kind v0.29.0: <urlopen error [Errno -3] name resolution>")

    monkeypatch.setattr(module, "make_kind_cluster", make)
    root = tmp_path / "student-repos"
    root.mkdir()
    student_repo(root, "alice", {"1.1": REFERENCE})
    status = module.main([str(root), "--lab", "1.1", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 1 and not (tmp_path / "out").exists()
    assert calls == ["k8s-101", "k8s-101"]
    assert "stopped, nobody was graded and nothing was written: backend kind cannot run" in captured.err
    assert "could not be created or reused (tried twice): Infrastructure problem (no points lost): could not " \
           "download kind" in captured.err
    assert "kubeconfig" not in captured.err + captured.out and "alice" not in captured.err + captured.out


def test_no_podman_stops_the_regrade_before_anyone_is_graded(tmp_path: Path) -> None:
    root = tmp_path / "student-repos"
    root.mkdir()
    student_repo(root, "correct", {"1.1": REFERENCE})
    bin_dir = tmp_path / "bin"  # git only: no podman on PATH
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git") or "git")
    result = regrade(root, tmp_path / "out", "--backend", "podman", env={**os.environ, "PATH": str(bin_dir)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "backend podman cannot run" in result.stderr and "podman is not installed" in result.stderr
    assert not (tmp_path / "out").exists() and "[1/1]" not in result.stdout


def faulty(fault: str) -> dict[str, str]:
    """The environment of a re-grade whose grading runs (not its backend check) meet a fault of tests/faults.py."""
    return {**os.environ, "PYTEST_ADDOPTS": "-p tests.faults", "K8S101_FAULT": fault}


@pytest.mark.podman
def test_an_infrastructure_error_is_retried_then_error_never_zero(tmp_path: Path) -> None:
    root = tmp_path / "student-repos"
    root.mkdir()
    student_repo(root, "correct", {"1.1": REFERENCE})
    result = regrade(root, tmp_path / "out", "--backend", "podman", env=faulty("apply-fails"))
    assert result.returncode == 1, result.stdout + result.stderr
    row = gradebook(tmp_path / "out")["correct"]
    assert (row["1.1"], row["1.1 status"], row["1.1:manifests"], row["total"]) == ("", "error", "", "")
    [student] = json.loads((tmp_path / "out" / "grades.json").read_text())["students"]
    assert student["labs"]["1.1"]["attempts"] == 2 and "podman did not answer" in student["labs"]["1.1"]["problem"]
    feedback = (tmp_path / "out" / "feedback" / "correct.md").read_text()
    assert "will be graded again" in feedback and "no points lost" in feedback
    assert "podman did not answer" not in feedback  # the machine's problem: the instructor's to read, not the student's
    assert "Not graded (error: an infrastructure problem" in result.stdout


@pytest.mark.podman
def test_runs_that_all_fail_alike_stop_the_regrade_before_anyone_is_graded(tmp_path: Path) -> None:
    root = tmp_path / "student-repos"
    root.mkdir()
    for name in ("alice", "bob", "carol", "dave"):
        student_repo(root, name, {"1.1": REFERENCE})
    result = regrade(root, tmp_path / "out", "--backend", "podman", "--jobs", "1", env=faulty("apply-fails"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the first 2 grading runs all failed alike, so this backend cannot grade anyone" in result.stderr
    assert "podman did not answer" in result.stderr
    assert not (tmp_path / "out").exists()
    assert "[3/4]" not in result.stdout  # carol and dave were never graded


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


def test_hostile_files_in_a_repository_are_flagged_unread(tmp_path: Path) -> None:
    """A FIFO named like a grader file would block a reader for ever, a huge one fill the memory: neither is read."""
    from graders import tripwire
    from graders.regrade import instructor_baselines, prepare
    repo = student_repo(tmp_path, "hostile")
    os.mkfifo(repo / "graders" / "pipe.py")
    with (repo / "graders" / "huge.py").open("wb") as file:
        file.truncate(tripwire.MAX_HASHED_BYTES + 1)  # sparse: large, but costs no disk
    work = prepare(repo, find_labs_by_id("1.1"), instructor_baselines(None))
    shutil.rmtree(work.folder)
    assert work.row.flags == ["added graders/huge.py", "added graders/pipe.py"]
    assert tripwire.blob_id(repo / "graders" / "pipe.py") == "not a regular file"


def test_a_repository_that_cannot_be_read_is_that_students_error_not_a_crash(tmp_path: Path, monkeypatch) -> None:
    from graders import regrade as module
    repo = student_repo(tmp_path, "unreadable")

    def copy(repo: Path, lab: Any, dest: Path) -> list[str]:  # as a folder without read permission (not for root)
        raise PermissionError(13, "Permission denied", str(repo / "labs" / lab.id))

    monkeypatch.setattr(module, "copy_submission", copy)
    work = module.prepare(repo, find_labs_by_id("1.1"), module.instructor_baselines(None))
    shutil.rmtree(work.folder)
    assert work.pending == {}
    assert (work.row.labs["1.1"].status, work.row.labs["1.1"].problem) == (
        "error", f"could not read the repository: Permission denied: {repo / 'labs' / '1.1'}")
