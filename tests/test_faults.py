"""Faults mid-run: the affected checks report an infrastructure error, the others still grade, and
nothing is left behind (the suite's leak check runs after these tests)."""

from __future__ import annotations

import json

import pytest

from tests.grading import REFERENCE, grade_lab

# fault -> ({check id: text of its infrastructure error}, extra options)
FAULTS: dict[str, tuple[dict[str, str], list[str]]] = {
    "apply-fails": ({"first-pod-ready": "while trying to start Pod my-first-pod",
                     "first-pod-serves": "while trying to start Pod my-first-pod",
                     # a Pod that was never created cannot be deleted: cleanup is not graded either
                     "cleanup": "while trying to start Pod my-first-pod"}, []),
    "pod-removed": ({"first-pod-ready": "Pod my-first-pod disappeared after it was created",
                     "first-pod-serves": "Pod my-first-pod disappeared after it was created"}, []),
    "podman-gone": ({check: "podman cannot be run any more" for check in (
        "first-pod-ready", "first-pod-serves", "sidecar-ready", "sidecar-localhost", "sidecar-shared-volume",
        "cleanup")}, []),
    # no verdict on podman takes evidence from inside a container any more (the grader requests, reads
    # the volume and the first process's signal handlers from its own side): a hanging exec only costs
    # the lesson's demonstration, which is a note (see the test below)
}


@pytest.mark.podman
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_is_an_error_of_the_checks_it_touches(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                      fault: str) -> None:
    errors, options = FAULTS[fault]
    monkeypatch.setenv("K8S101_FAULT", fault)
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "-p", "tests.faults", "--backend", "podman", "--submission", str(REFERENCE),
                       "--grade-report", str(report), *options)
    checks = {check["id"]: check for check in json.loads(report.read_text())["checks"]}
    assert {cid for cid, c in checks.items() if c["status"] == "error"} == set(errors), result.stdout.str()
    assert all(c["status"] == "passed" for cid, c in checks.items() if cid not in errors)  # the others still grade
    for cid, text in errors.items():
        assert text in checks[cid]["message"], checks[cid]["message"]
        assert checks[cid]["message"].startswith("Infrastructure problem (no points lost)")
    result.stdout.fnmatch_lines(["*ERROR*", "*could not be graded because of an infrastructure problem*"])
    assert result.ret == 1


@pytest.mark.podman
def test_a_hanging_exec_changes_no_verdict_and_only_the_demonstration_says_so(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S101_FAULT", "exec-hangs")
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "-p", "tests.faults", "--backend", "podman", "--submission", str(REFERENCE),
                       "--grade-report", str(report), "--timeout-exec", "2")
    checks = {check["id"]: check for check in json.loads(report.read_text())["checks"]}
    assert all(c["status"] == "passed" for c in checks.values()), result.stdout.str()
    assert "the lesson's demonstration" in checks["sidecar-localhost"]["message"]
    assert result.ret == 0
