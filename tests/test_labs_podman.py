"""Every lab graded end to end on podman: real Pods, a reference solution and typical mistakes.

Each lab is found on disk (tests/labs.py): each submission under tests/submissions/<id>/ is graded by a
separate `pytest labs/<id>` run, exactly as a student runs it, against the verdicts written beside them;
check ids and points come from the lab's rubric.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.grading import grade_lab
from tests.labs import LabUnderTest, find_labs, mismatches

pytestmark = pytest.mark.podman

LABS = find_labs()


def grade(pytester: pytest.Pytester, lab: LabUnderTest, submission: Path, *args: str) -> tuple[pytest.RunResult, dict]:
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", "podman", "--submission", str(submission),
                       "--grade-report", str(report), *args, lab=lab.folder)
    return result, json.loads(report.read_text())


@pytest.mark.parametrize(("lab", "variant"), [
    pytest.param(lab, variant, id=f"{lab.id}/{variant}", marks=[pytest.mark.alone] if variant in lab.alone() else [])
    for lab in LABS for variant in sorted(lab.verdicts)])
def test_submission_gets_the_expected_verdict(pytester: pytest.Pytester, lab: LabUnderTest, variant: str) -> None:
    result, report = grade(pytester, lab, lab.submissions / variant, *lab.graded_with(variant))
    expected = lab.verdicts[variant]
    assert mismatches(lab, variant, report) == [], result.stdout.str()
    checks = {check["id"]: check for check in report["checks"]}
    assert list(checks) == lab.check_ids
    for cid in expected:
        assert checks[cid]["status"] == "failed" and checks[cid]["points"] == 0, (cid, checks[cid])
    assert report["lab"] == lab.id
    assert report["score"] == sum(c["max_points"] for c in checks.values() if c["passed"])
    assert report["max_score"] == lab.max_score == 100
    assert result.ret == (0 if not expected else 1)
    result.stdout.fnmatch_lines([f"Score: {report['score']}/{lab.max_score} (backend podman)"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*grader error*")


@pytest.mark.parametrize("lab", LABS, ids=[lab.id for lab in LABS])
def test_only_selected_checks_are_reported(pytester: pytest.Pytester, lab: LabUnderTest) -> None:
    result, report = grade(pytester, lab, lab.submissions / "reference", "-k", "manifests")
    manifests = next(check for check in lab.lab.checks if check.id == "manifests")
    assert [check["id"] for check in report["checks"]] == ["manifests"]
    assert report == {"lab": lab.id, "score": manifests.points, "max_score": manifests.points, "checks": [
        {"id": "manifests", "title": manifests.title, "points": manifests.points,
         "max_points": manifests.points, "passed": True, "status": "passed", "message": "", "headline": ""}]}
    assert result.ret == 0
