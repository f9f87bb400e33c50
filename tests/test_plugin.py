"""The grader's pytest surface: options, validation, infrastructure errors, the report."""

from __future__ import annotations

import json

import pytest

from tests.grading import LAB, REFERENCE, REPO
from tests.grading import grade_lab as run


def test_missing_podman_is_an_infrastructure_error_not_a_lost_point(pytester: pytest.Pytester,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))  # no podman here
    report = pytester.path / "grade.json"
    result = run(pytester, "--backend", "podman", "--submission", str(REFERENCE), "--grade-report", str(report))
    grade = json.loads(report.read_text())
    statuses = {check["id"]: check["status"] for check in grade["checks"]}
    assert statuses.pop("manifests") == "passed"  # offline checks still grade
    assert set(statuses.values()) == {"error"}
    assert all("podman is not installed" in c["message"] for c in grade["checks"] if c["status"] == "error")
    result.stdout.fnmatch_lines([
        "*Infrastructure problem (no points lost): podman is not installed or not on PATH",
        "*fix:   install podman*",
        "*ERROR*first-pod-ready*-/15*",
        "Score: 10/100 (backend podman); 6 check(s) could not be graded because of an infrastructure problem*",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert result.ret == 1


def test_unknown_context_is_an_infrastructure_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = pytester.path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    result = run(pytester, "--backend", "context", "--context", "nope", "--submission", str(REFERENCE))
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
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    result = run(pytester, *args)
    result.stderr.fnmatch_lines([message])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_ini_values_are_validated_with_their_source(pytester: pytest.Pytester) -> None:
    ini = pytester.path / "grader.ini"
    ini.write_text((REPO / "pytest.ini").read_text().replace("pythonpath = .", f"pythonpath = {REPO}")
                   + "grader_timeout_delete = -3\n")
    result = pytester.runpytest_subprocess(str(LAB), "-c", str(ini), "--rootdir", str(REPO))
    result.stderr.fnmatch_lines(["*Invalid timeout '-3' from ini grader_timeout_delete*"])


def test_header_shows_backend_and_timeouts(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--backend", "podman", "--timeout-ready", "42", "--collect-only")
    result.stdout.fnmatch_lines(["grader: backend podman; timeouts apply 60s, ready 42s, exec 10s, delete 60s*"])


def test_a_day_is_still_a_valid_timeout(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--backend", "podman", "--timeout-ready", "86400", "--collect-only")
    result.stdout.fnmatch_lines(["grader: backend podman; timeouts apply 60s, ready 86400s*"])
    assert result.ret == 0


def test_a_report_in_a_new_folder_is_written(pytester: pytest.Pytester) -> None:
    report = pytester.path / "new" / "deeper" / "grade.json"
    run(pytester, "--backend", "podman", "--submission", str(REFERENCE), "-k", "manifests",
        "--grade-report", str(report))
    assert json.loads(report.read_text())["score"] == 10
    assert [p.name for p in report.parent.iterdir()] == ["grade.json"]  # the start-up probe left nothing


UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]
contexts: [{name: gone, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: t}}]
"""


def test_an_unreachable_cluster_is_said_once_in_the_students_terms(pytester: pytest.Pytester,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (pytester.path / "kubeconfig").write_text(UNREACHABLE)
    monkeypatch.setenv("KUBECONFIG", str(pytester.path / "kubeconfig"))
    report = pytester.path / "grade.json"
    result = run(pytester, "--backend", "context", "--context", "gone", "--submission", str(REFERENCE),
                 "--grade-report", str(report))
    # pytest's own "short test summary info" repeats each error's first line (in full when CI is set, as on
    # GitHub): count what the graders print, before it
    output = result.stdout.str().split("short test summary info")[0]
    assert output.count("the Kubernetes API of context gone does not answer: 127.0.0.1:9: Connection refused") == 2
    assert output.count("fix:   check `kubectl --context gone cluster-info`") == 1  # the first check, in full
    assert "ConnectionPool" not in output and "NewConnectionError" not in output and "Captured log" not in output
    result.stdout.fnmatch_lines([
        "[[]first-pod-serves[]] *", "Infrastructure problem (no points lost): not graded (see above)",
        "*ERROR*first-pod-ready*-/15*", "*-> not graded: the Kubernetes API of context gone does not answer*",
        "*ERROR*first-pod-serves*-/10*", "*-> not graded (see above)",
    ])
    assert output.count("not graded (see above)") == 5 * 2  # five checks, in the errors and in the summary
    grade = json.loads(report.read_text())  # the report keeps the whole message for every check
    assert all("127.0.0.1:9: Connection refused" in check["message"] and "fix:" in check["message"]
               for check in grade["checks"] if check["status"] == "error")
