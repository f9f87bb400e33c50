"""Lab 1.1 graded end to end on podman: real Pods, a reference solution and typical mistakes.

Each submission under tests/submissions/1.1/ is graded by a separate `pytest labs/1.1` run, exactly
as a student runs it; the JSON report says which checks failed and why.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.grading import SUBMISSIONS, grade_lab, grader_command
from tests.verdicts import VERDICTS, mismatches



def grade(pytester: pytest.Pytester, submission: Path, *args: str) -> tuple[pytest.RunResult, dict]:
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", "podman", "--submission", str(submission),
                       "--grade-report", str(report), *args)
    return result, json.loads(report.read_text())


@pytest.mark.parametrize("variant", sorted(VERDICTS))
def test_submission_gets_the_expected_verdict(pytester: pytest.Pytester, variant: str) -> None:
    result, report = grade(pytester, SUBMISSIONS / variant)
    expected = VERDICTS[variant]
    assert mismatches(variant, report) == [], result.stdout.str()
    checks = {check["id"]: check for check in report["checks"]}
    for cid in expected:
        assert checks[cid]["status"] == "failed" and checks[cid]["points"] == 0
    assert report["score"] == sum(c["max_points"] for c in checks.values() if c["passed"])
    assert report["max_score"] == 100
    assert result.ret == (0 if not expected else 1)
    result.stdout.fnmatch_lines([f"Score: {report['score']}/100 (backend podman)"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_reference_passes_with_a_hint_about_sigterm(pytester: pytest.Pytester) -> None:
    result, report = grade(pytester, SUBMISSIONS / "reference")
    cleanup = next(check for check in report["checks"] if check["id"] == "cleanup")
    assert cleanup["passed"] and "log-shipper of Pod app-with-sidecar ignores SIGTERM" in cleanup["message"]
    result.stdout.fnmatch_lines(["*PASS*cleanup*10/10*", "*-> Note: container log-shipper*ignores SIGTERM*"])


def test_a_sidecar_that_handles_sigterm_gets_no_hint(pytester: pytest.Pytester) -> None:
    _, report = grade(pytester, SUBMISSIONS / "one-file-namespaced")
    cleanup = next(check for check in report["checks"] if check["id"] == "cleanup")
    assert cleanup["passed"] and cleanup["message"] == ""


def test_failure_shows_expected_observed_hint_and_readme_section(pytester: pytest.Pytester) -> None:
    result, _ = grade(pytester, SUBMISSIONS / "wrong-mount-path")
    result.stdout.fnmatch_lines([
        "*[[]sidecar-shared-volume[]] app's access log reaches log-shipper through a shared emptyDir",
        "Expected: a request logged by app*",
        "Observed: the request appeared neither in the files under /logs*",
        "Hint:     app-with-sidecar.yaml: spec.containers[0].volumeMounts[0].mountPath: app mounts volume logs at "
        "/var/log/app, but nginx writes its logs to /var/log/nginx: mount it there",
        "Read:     labs/1.1/README.md#part-2-a-pod-with-a-sidecar",
    ])


def test_image_pull_failure_fails_fast_with_events(pytester: pytest.Pytester) -> None:
    result, _ = grade(pytester, SUBMISSIONS / "image-typo", "--timeout-ready", "300")
    result.stdout.fnmatch_lines(["What the cluster shows:", "*container nginx: ErrImagePull*",
                                 "Recent events of my-first-pod:*"])
    assert result.duration < 60  # the cluster said ErrImagePull: no waiting out the 300 s ready timeout


def test_crash_looping_sidecar_fails_fast(pytester: pytest.Pytester) -> None:
    result, _ = grade(pytester, SUBMISSIONS / "sidecar-exits", "--timeout-ready", "300")
    result.stdout.fnmatch_lines(["Observed: container log-shipper: CrashLoopBackOff*"])
    assert result.duration < 60


def test_only_selected_checks_are_reported(pytester: pytest.Pytester) -> None:
    result, report = grade(pytester, SUBMISSIONS / "reference", "-k", "manifests")
    assert [check["id"] for check in report["checks"]] == ["manifests"]
    assert report == {"lab": "1.1", "score": 10, "max_score": 10, "checks": [
        {"id": "manifests", "title": "YAML parses; both Pods present, schema-valid and safe", "points": 10,
         "max_points": 10, "passed": True, "status": "passed", "message": ""}]}
    assert result.ret == 0


def test_sigterm_mid_run_leaves_no_pod(tmp_path: Path) -> None:
    """What CI sends on cancel: the run stops and still removes its pods and volume directories."""
    command = grader_command("--backend", "podman", "--submission", str(SUBMISSIONS / "sidecar-silent"), "-q")
    ours = ["podman", "pod", "ps", "-q", "--filter", "label=app.kubernetes.io/managed-by=k8s101-graders"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not subprocess.run(ours, capture_output=True, text=True).stdout.split():
            assert time.monotonic() < deadline and process.poll() is None, "the run never started its pods"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "KeyboardInterrupt: signal 15" in output
    assert subprocess.run(ours, capture_output=True, text=True).stdout.split() == []
