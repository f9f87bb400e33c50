"""The fast loop (`-m "not podman"`) proves the podman marker complete: a test that starts podman without
the marker fails the session by name (tests/podman_guard.py), also when it would pass without podman.
And the lock that lets an `alone` test run while no other podman test runs in any parallel worker."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.labs import REPO
from tests.podman_guard import _finished_alone, alone, shared, wait_for_the_alone_tests

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


def test_an_alone_test_waits_for_running_ones_and_is_not_starved_by_new_ones(tmp_path: Path) -> None:
    order: list[str] = []
    first = shared(tmp_path)
    first.__enter__()  # a podman test running in another worker

    def run(name: str, lock, hold: float = 0.2) -> threading.Thread:
        def body() -> None:
            with lock(tmp_path):
                order.append(f"{name} in")
                time.sleep(hold)
                order.append(f"{name} out")
        thread = threading.Thread(target=body)
        thread.start()
        return thread

    waiting_alone = run("alone", alone)
    time.sleep(0.2)
    assert order == []  # it waits for the running test
    later = run("later", shared)  # a test that starts meanwhile waits behind it
    time.sleep(0.2)
    assert order == []
    first.__exit__(None, None, None)
    waiting_alone.join(5)
    later.join(5)
    assert order == ["alone in", "alone out", "later in", "later out"]


def test_shared_holders_run_together(tmp_path: Path) -> None:
    entered = threading.Event()

    def second() -> None:
        with shared(tmp_path):
            entered.set()

    with shared(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        assert entered.wait(2)  # while the first still holds it
    thread.join(2)


ORDERED = """
import pytest

def test_plain_first(): pass

@pytest.mark.podman
def test_podman(): pass

@pytest.mark.podman
@pytest.mark.alone
def test_alone(): pass

def test_plain_last(): pass
"""


def test_alone_tests_come_first_then_those_without_podman(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
                          "from tests.podman_guard import alone_first\n"
                          "def pytest_collection_modifyitems(items):\n    alone_first(items)\n")
    pytester.makeini("[pytest]\nmarkers =\n    podman: needs podman\n    alone: alone\n")
    pytester.makepyfile(test_order=ORDERED)
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:kmock")
    assert [line.split("::")[1] for line in result.stdout.lines if "::" in line] == [
        "test_alone", "test_plain_first", "test_plain_last", "test_podman"]


def test_shared_tests_wait_for_the_alone_tests_to_finish(tmp_path: Path) -> None:
    def finish_two() -> None:
        for name in ("one", "two"):
            time.sleep(0.3)
            _finished_alone(tmp_path, name)

    began = time.monotonic()
    thread = threading.Thread(target=finish_two)
    thread.start()
    wait_for_the_alone_tests(tmp_path, 2, patience=5)
    waited = time.monotonic() - began
    thread.join(2)
    assert 0.5 < waited < 3  # until the second finished, not the patience
    assert (tmp_path / "alone-done").read_text().split() == ["one", "two"]


def test_the_gate_opens_when_the_alone_tests_make_no_progress(tmp_path: Path) -> None:
    """An alone test queued behind a waiting shared test (another order than alone_first's) cannot finish:
    the gate opens after its patience instead of waiting for ever."""
    _finished_alone(tmp_path, "one")
    began = time.monotonic()
    wait_for_the_alone_tests(tmp_path, 2, patience=0.5)
    assert 0.5 <= time.monotonic() - began < 2
