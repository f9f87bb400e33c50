"""What a podman grading run shows beyond a verdict (tests/test_labs_podman.py grades every lab's table):
notes, the failure's layout, failing fast, a cancelled run. Shown on lab 1.1's submissions (the example
lab of tests/grading.py), whose sidecar reaches each of these cases.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.grading import SUBMISSIONS, check_seconds, grade_lab, grader_command, junit

pytestmark = pytest.mark.podman


def grade(pytester: pytest.Pytester, submission: Path, *args: str) -> tuple[pytest.RunResult, dict]:
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", "podman", "--submission", str(submission),
                       "--grade-report", str(report), *args)
    return result, json.loads(report.read_text())


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
    result, _ = grade(pytester, SUBMISSIONS / "image-typo", "--timeout-ready", "300", *junit(pytester))
    result.stdout.fnmatch_lines(["What the cluster shows:", "*container nginx: ErrImagePull*",
                                 "Recent events of my-first-pod:*"])
    took = check_seconds(pytester)  # the cluster said ErrImagePull: no waiting out the 300 s ready timeout
    assert took["first-pod-ready"] + took["first-pod-serves"] < 300 / 2, took


def test_crash_looping_sidecar_fails_fast(pytester: pytest.Pytester) -> None:
    result, _ = grade(pytester, SUBMISSIONS / "sidecar-exits", "--timeout-ready", "300", *junit(pytester))
    result.stdout.fnmatch_lines(["Observed: container log-shipper: CrashLoopBackOff*"])
    assert check_seconds(pytester)["sidecar-ready"] < 300 / 2  # a verdict after its restarts, not the deadline


def test_sigterm_mid_run_leaves_no_pod(tmp_path: Path) -> None:
    """What CI sends on cancel: the run stops and still removes its pods and volume directories."""
    command = grader_command("--backend", "podman", "--submission", str(SUBMISSIONS / "sidecar-silent"), "-q")
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # this run's pods only (labelled with the grading process's PID): parallel runs on the machine have theirs
    ours = ["podman", "pod", "ps", "-q", "--filter", "label=app.kubernetes.io/managed-by=k8s101-graders",
            "--filter", f"label=k8s101.dev/pid={process.pid}"]
    try:
        deadline = time.monotonic() + 60
        while not subprocess.run(ours, capture_output=True, text=True).stdout.split():
            assert time.monotonic() < deadline and process.poll() is None, "the run never started its pods"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    # SIGTERM reads as Ctrl-C does (issue 22, student 4): what is being removed, no traceback, no score
    assert "grader: interrupted: removing what this run made" in output and "checks not run" in output
    assert "KeyboardInterrupt" not in output and "Traceback" not in output
    assert subprocess.run(ours, capture_output=True, text=True).stdout.split() == []
