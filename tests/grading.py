"""How the project's tests grade a lab as a student does: a separate `pytest labs/<id>` process, with the
repository's pytest.ini, from any working folder.

The tables of every lab are found by tests/labs.py. The backend's own tests (robustness, evidence, faults,
regrade) grade lab 1.1, whose two Pods, one with a sidecar, reach every kind of check: LAB, SUBMISSIONS and
REFERENCE are that example lab's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "labs" / "1.1"
SUBMISSIONS = REPO / "tests" / "submissions" / "1.1"
REFERENCE = SUBMISSIONS / "reference"


def lab_args(*args: str, lab: Path = LAB) -> list[str]:
    return [str(lab), "-c", str(REPO / "pytest.ini"), "--rootdir", str(REPO), *args]


def grade_lab(pytester: pytest.Pytester, *args: str, lab: Path = LAB) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*lab_args(*args, lab=lab))


def grader_command(*args: str, lab: Path = LAB) -> list[str]:
    """The command line of a grading run, for tests that signal or race it."""
    return [sys.executable, "-m", "pytest", *lab_args(*args, lab=lab)]


def junit(pytester: pytest.Pytester) -> tuple[str, str]:
    """Options that make a graded run write each check's time (read them with check_seconds)."""
    return "--junitxml", str(pytester.path / "checks.xml")


def check_seconds(pytester: pytest.Pytester) -> dict[str, float]:
    """How long each check of the graded run took, by check id (test_first_pod_ready: first-pod-ready)."""
    from xml.etree import ElementTree
    cases = ElementTree.parse(pytester.path / "checks.xml").getroot().iter("testcase")
    return {case.get("name", "").removeprefix("test_").replace("_", "-"): float(case.get("time", "0"))
            for case in cases}
