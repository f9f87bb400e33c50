"""Lab 1.2 graded end to end on podman: each submission under tests/submissions/1.2/ is graded by a
separate `pytest labs/1.2` run, as a student runs it, against the verdicts written beside them."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.grading import REPO

LAB = REPO / "labs" / "1.2"
SUBMISSIONS = REPO / "tests" / "submissions" / "1.2"


def _verdicts():  # "1.2" is no package name: load the table by path
    spec = importlib.util.spec_from_file_location("lab_1_2_verdicts", SUBMISSIONS / "verdicts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERDICTS = _verdicts()


@pytest.mark.parametrize("variant", sorted(VERDICTS.VERDICTS))
def test_submission_gets_the_expected_verdict(pytester: pytest.Pytester, variant: str) -> None:
    report_file = pytester.path / "grade.json"
    result = pytester.runpytest_subprocess(str(LAB), "-c", str(REPO / "pytest.ini"), "--rootdir", str(REPO),
                                           "--backend", "podman", "--submission", str(SUBMISSIONS / variant),
                                           "--grade-report", str(report_file))
    report = json.loads(report_file.read_text())
    checks = {check["id"]: check for check in report["checks"]}
    expected = VERDICTS.VERDICTS[variant]
    assert list(checks) == VERDICTS.CHECKS, result.stdout.str()
    assert {cid for cid, c in checks.items() if not c["passed"]} == set(expected), result.stdout.str()
    for cid, words in expected.items():
        assert words in checks[cid]["message"], (cid, checks[cid]["message"])
        assert checks[cid]["status"] == "failed", (cid, checks[cid]["status"])
    assert report["max_score"] == 100
    assert result.ret == (0 if not expected else 1)
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*grader error*")
