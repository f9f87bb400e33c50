"""How the project's tests grade lab 1.1 as a student does: a separate `pytest labs/1.1` process,
with the repository's pytest.ini, from any working folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "labs" / "1.1"
SUBMISSIONS = REPO / "tests" / "submissions" / "1.1"
REFERENCE = SUBMISSIONS / "reference"


def lab_args(*args: str) -> list[str]:
    return [str(LAB), "-c", str(REPO / "pytest.ini"), "--rootdir", str(REPO), *args]


def grade_lab(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*lab_args(*args))


def grader_command(*args: str) -> list[str]:
    """The command line of a grading run, for tests that signal or race it."""
    return [sys.executable, "-m", "pytest", *lab_args(*args)]
