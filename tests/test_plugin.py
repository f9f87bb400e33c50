"""The grader's pytest surface: options, validation, infrastructure errors, the report.

Graded on a small synthetic lab made in the test's folder (one Pod, four checks), so that these tests
follow no real lab's ids and points.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.grading import REPO

# The synthetic lab's declaration and its first check, shared by the rubrics below.
RUBRIC_HEAD = '''
from graders import Lab
from graders.checks import expect, lifecycle, manifests, pods

lab = Lab("9.1", "A synthetic lab", pods=["solo"], readme="README.md")


@lab.check("manifests", 10, "YAML parses; Pod solo present", section="check-your-work")
def test_manifests(submission):
    manifests.manifests_valid(submission)
'''
RUBRIC = RUBRIC_HEAD + '''

@lab.check("solo-ready", 40, "solo runs and is Ready", section="part-1")
def test_solo_ready(lab_run):
    pods.wait_running(lab_run, "solo")


@lab.check("solo-running", 30, "solo is Running", section="part-1")
def test_solo_running(lab_run):
    expect.phase_is(lab_run, "solo", "Running")


@lab.check("cleanup", 20, "solo deletes cleanly", section="clean-up")
def test_cleanup(lab_run):
    lifecycle.deleted_cleanly(lab_run, ["solo"])
'''
SOLUTION = """apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  containers:
    - name: web
      image: nginx:1.25
"""


@pytest.fixture
def lab(pytester: pytest.Pytester) -> Path:
    """The synthetic lab's folder (README, rubric, the solution as its YAML), and the solution's own folder."""
    folder = pytester.mkdir("lab")
    (folder / "README.md").write_text("# Lab 9.1\n\n## Part 1\n\n## Check your work\n\n## Clean up\n")
    (folder / "test_lab_9_1.py").write_text(RUBRIC)
    pytester.mkdir("solution")
    (pytester.path / "solution" / "solo.yaml").write_text(SOLUTION)
    (pytester.path / "pytest.ini").write_text((REPO / "pytest.ini").read_text())
    return folder


@pytest.fixture
def solution(lab: Path) -> Path:
    return lab.parent / "solution"


def run(pytester: pytest.Pytester, *args: str, ini: Path | None = None) -> pytest.RunResult:
    """`pytest lab/` graded as a student runs it, with the project's pytest.ini."""
    return pytester.runpytest_subprocess(str(pytester.path / "lab"), "-c", str(ini or pytester.path / "pytest.ini"),
                                         "--rootdir", str(pytester.path), *args)


def test_missing_podman_is_an_infrastructure_error_not_a_lost_point(pytester: pytest.Pytester, solution: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))  # no podman here
    report = pytester.path / "grade.json"
    result = run(pytester, "--backend", "podman", "--submission", str(solution), "--grade-report", str(report))
    grade = json.loads(report.read_text())
    statuses = {check["id"]: check["status"] for check in grade["checks"]}
    assert statuses.pop("manifests") == "passed"  # offline checks still grade
    assert set(statuses.values()) == {"error"}
    assert all("podman is not installed" in c["message"] for c in grade["checks"] if c["status"] == "error")
    result.stdout.fnmatch_lines([
        "*Infrastructure problem (no points lost): podman is not installed or not on PATH",
        "*fix:   install podman*",
        "*ERROR*solo-ready*-/40*",
        "Score: 10/100 (backend podman); 3 check(s) could not be graded because of an infrastructure problem*",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert result.ret == 1


def test_unknown_context_is_an_infrastructure_error(pytester: pytest.Pytester, solution: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = pytester.path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    result = run(pytester, "--backend", "context", "--context", "nope", "--submission", str(solution))
    result.stdout.fnmatch_lines(["*cannot load the kubeconfig context 'nope'*",
                                 "*`kubectl config get-contexts` lists the contexts*"])
    assert result.ret == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--backend", "context"], "*--backend context needs --context NAME*"),
    (["--backend", "docker"], "*Invalid backend 'docker' from --backend: choose one of kind, context, podman*"),
    (["--timeout-ready", "soon"], "*Invalid timeout 'soon' from --timeout-ready: give a number of seconds above 0*"),
    (["--timeout-exec", "0"], "*Invalid timeout '0' from --timeout-exec*"),
    (["--timeout-ready", "inf"], "*Invalid timeout 'inf' from --timeout-ready*"),
    (["--timeout-delete", "nan"], "*Invalid timeout 'nan' from --timeout-delete*"),
    (["--reap-after", "-1"], "*Invalid age '-1' from --reap-after*"),
    (["--submission", "/no/such/folder"], "*--submission /no/such/folder: no such folder*"),
    (["--timeout-ready", "1e20"], "*Invalid timeout '1e20' from --timeout-ready: at most 86400 seconds (1 day)*"),
    (["--timeout-apply", "86401"], "*Invalid timeout '86401' from --timeout-apply: at most 86400 seconds*"),
    (["--reap-after", "1e20"], "*Invalid age '1e20' from --reap-after: at most 2592000 seconds (30 days)*"),
    (["--grade-report", "/proc/grade.json"], "*--grade-report /proc/grade.json: cannot write there (*): choose a "
                                             "file in a folder you can write to*"),
    (["--grade-report", "/etc/hostname/grade.json"], "*--grade-report /etc/hostname/grade.json: a part of its "
                                                     "folder is a file, not a folder*"),
    (["--grade-report", "/tmp"], "*--grade-report /tmp: it is a folder; give a file name such as grade.json*"),
])
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, lab: Path, args: list[str], message: str) -> None:
    # in-process: refused while pytest configures, before anything runs (14 interpreter starts saved)
    result = pytester.runpytest_inprocess(str(lab), "-c", str(pytester.path / "pytest.ini"), "--rootdir",
                                          str(pytester.path), *args)
    result.stderr.fnmatch_lines([message])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_ini_values_are_validated_with_their_source(pytester: pytest.Pytester, lab: Path) -> None:
    ini = pytester.path / "grader.ini"
    ini.write_text((REPO / "pytest.ini").read_text() + "grader_timeout_delete = -3\n")
    result = run(pytester, ini=ini)
    result.stderr.fnmatch_lines(["*Invalid timeout '-3' from ini grader_timeout_delete*"])


def test_header_shows_backend_and_timeouts(pytester: pytest.Pytester, lab: Path) -> None:
    result = run(pytester, "--backend", "podman", "--timeout-ready", "42", "--collect-only")
    result.stdout.fnmatch_lines(["grader: backend podman; timeouts apply 60s, ready 42s, exec 10s, delete 60s*"])


def test_a_day_is_still_a_valid_timeout(pytester: pytest.Pytester, lab: Path) -> None:
    result = run(pytester, "--backend", "podman", "--timeout-ready", "86400", "--collect-only")
    result.stdout.fnmatch_lines(["grader: backend podman; timeouts apply 60s, ready 86400s*"])
    assert result.ret == 0


def test_a_report_in_a_new_folder_is_written(pytester: pytest.Pytester, solution: Path) -> None:
    report = pytester.path / "new" / "deeper" / "grade.json"
    run(pytester, "--backend", "podman", "--submission", str(solution), "-k", "manifests",
        "--grade-report", str(report))
    assert json.loads(report.read_text())["score"] == 10
    assert [p.name for p in report.parent.iterdir()] == ["grade.json"]  # the start-up probe left nothing


UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]
contexts: [{name: gone, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: t}}]
"""


def test_an_unreachable_cluster_is_said_once_in_the_students_terms(pytester: pytest.Pytester, solution: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (pytester.path / "kubeconfig").write_text(UNREACHABLE)
    monkeypatch.setenv("KUBECONFIG", str(pytester.path / "kubeconfig"))
    report = pytester.path / "grade.json"
    result = run(pytester, "--backend", "context", "--context", "gone", "--submission", str(solution),
                 "--grade-report", str(report))
    # pytest's own "short test summary info" repeats each error's first line (in full when CI is set, as on
    # GitHub): count what the graders print, before it
    output = result.stdout.str().split("short test summary info")[0]
    assert output.count("the Kubernetes API of context gone does not answer: 127.0.0.1:9: Connection refused") == 2
    assert output.count("fix:   check `kubectl --context gone cluster-info`") == 1  # the first check, in full
    assert "ConnectionPool" not in output and "NewConnectionError" not in output and "Captured log" not in output
    result.stdout.fnmatch_lines([
        "[[]solo-running[]] *", "Infrastructure problem (no points lost): not graded (see above)",
        "*ERROR*solo-ready*-/40*", "*-> not graded: the Kubernetes API of context gone does not answer*",
        "*ERROR*solo-running*-/30*", "*-> not graded (see above)",
    ])
    assert output.count("not graded (see above)") == 2 * 2  # two checks, in the errors and in the summary
    grade = json.loads(report.read_text())  # the report keeps the whole message for every check
    assert all("127.0.0.1:9: Connection refused" in check["message"] and "fix:" in check["message"]
               for check in grade["checks"] if check["status"] == "error")


# -- Ctrl-C (issue 22, student 4) --------------------------------------------------------------------------
INTERRUPTED_RUBRIC = RUBRIC_HEAD + '''
import os
import signal


@lab.check("pressed", 40, "the student presses Ctrl-C here", section="part-1")
def test_pressed(submission):
    os.kill(os.getpid(), signal.SIGINT)


@lab.check("later", 30, "never runs", section="part-1")
def test_later(submission):
    pass


@lab.check("last", 20, "never runs either", section="clean-up")
def test_last(submission):
    pass
'''


def test_ctrl_c_says_how_many_checks_did_not_run_and_gives_no_score(pytester: pytest.Pytester, lab: Path,
                                                                     solution: Path) -> None:
    (lab / "test_lab_9_1.py").write_text(INTERRUPTED_RUBRIC)
    result = run(pytester, "--submission", str(solution))
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "Interrupted: 3 checks not run !!!" in output
    assert "  PASS   manifests" in output
    assert "Score:" not in output and "10/10 (backend" not in output  # no full-looking score
    assert "interrupted: 3 checks not run, so no score (10 of the 10 points of the checks above; run again for " \
           "the grade out of 100)" in output
    assert "KeyboardInterrupt" not in output and "Traceback" not in output and "plugin.py" not in output
