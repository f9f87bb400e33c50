"""The fast loop (`-m "not podman"`) proves the podman marker complete: a test that starts podman without
the marker fails the session by name (tests/podman_guard.py), also when it would pass without podman."""

from __future__ import annotations

import pytest

from tests.labs import REPO

CONFTEST = f"""
import os, sys
sys.path.insert(0, {str(REPO)!r})
from tests.podman_guard import name_the_test_for_podman, podman_refused_unless_selected
PATH_BEFORE = os.environ["PATH"]
"""
TESTS = """
import os, subprocess
import pytest
from conftest import PATH_BEFORE

def test_tolerant_of_a_failing_podman():
    result = subprocess.run(["podman", "info"], capture_output=True, text=True)
    assert result.returncode == 125 and "mark it with @pytest.mark.podman" in result.stderr

def test_without_podman():
    assert True

@pytest.mark.podman
def test_marked():
    assert os.environ["PATH"] == PATH_BEFORE  # a session with podman tests keeps the real podman
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_some=TESTS)
    pytester.makeini("[pytest]\nmarkers =\n    podman: needs podman\n")
    return pytester


def test_an_unmarked_test_that_calls_podman_fails_the_fast_loop_by_name(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-m", "not podman", "-p", "no:cacheprovider", "-p", "no:kmock")
    result.assert_outcomes(passed=2, errors=1, deselected=1)  # it passed, yet the session names it
    result.stdout.fnmatch_lines(["*tests not marked podman called podman*",
                                 "*test_some.py::test_tolerant_of_a_failing_podman: podman info"])


def test_a_session_with_podman_tests_keeps_podman(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-k", "marked or without", "-p", "no:cacheprovider", "-p", "no:kmock")
    result.assert_outcomes(passed=2, deselected=1)


def test_the_fast_loop_without_podman_calls_passes(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-m", "not podman", "-k", "without", "-p", "no:cacheprovider", "-p", "no:kmock")
    result.assert_outcomes(passed=1, deselected=2)
