"""The `podman` marker is complete: a session that selects no podman test (`-m "not podman"`, the fast
loop) runs with a podman on PATH that refuses to work and records who called it, so a test that starts
Pods without the marker fails the session by name, even one that would pass without podman.

Tests run in parallel workers (pytest-xdist). A test marked `alone` runs while no other podman test runs,
in any worker: it asserts what one grading run reaps (any run that starts meanwhile reaps the same), or
measures the whole machine. Every podman test holds a shared lock, an `alone` test the exclusive one;
a turnstile keeps new shared holders out while an `alone` test waits, so it is not starved.

The lock alone would make every `alone` test wait for whatever podman tests are running (up to 45 s each,
with every other worker idle meanwhile). So the `alone` tests are ordered first, and the first shared test
of each worker waits until they have all run, while the other workers run the tests that need no podman:
one quiet phase instead of a drain per `alone` test. The lock still decides; the gate only waits while the
`alone` tests make progress (GATE_PATIENCE), so an order that puts one behind a waiting test costs that
much, never a deadlock."""

from __future__ import annotations

import fcntl
import os
import shlex
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import pytest

GATE_PATIENCE = 60.0  # seconds without an `alone` test finishing after which shared tests go ahead anyway
CALLED_BY = "K8S101_TEST_CALLING"  # the outer test's id; a grading subprocess inherits it
REFUSING_PODMAN = """#!/bin/sh
echo "${called_by}: podman $*" >> {log}
echo "podman was called by a test not marked podman (${called_by}): mark it with @pytest.mark.podman" >&2
exit 125
"""


def selects_podman_tests(session: pytest.Session) -> bool:
    return any(item.get_closest_marker("podman") for item in session.items)


@pytest.fixture(scope="session", autouse=True)
def podman_refused_unless_selected(request: pytest.FixtureRequest,
                                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    if selects_podman_tests(request.session):
        yield None
        return
    folder = tmp_path_factory.mktemp("refusing-podman")
    log = folder / "calls.log"
    script = folder / "podman"
    script.write_text(REFUSING_PODMAN.replace("{called_by}", CALLED_BY).replace("{log}", shlex.quote(str(log))))
    script.chmod(0o755)
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{folder}{os.pathsep}{path}"
    os.environ[CALLED_BY] = "a fixture shared by several tests"  # until a test names itself
    try:
        yield log
    finally:
        os.environ["PATH"] = path
        os.environ.pop(CALLED_BY, None)
    calls = log.read_text().splitlines() if log.exists() else []
    assert not calls, "tests not marked podman called podman (mark them @pytest.mark.podman):\n" + "\n".join(calls)


@pytest.fixture(autouse=True)
def name_the_test_for_podman(request: pytest.FixtureRequest, podman_refused_unless_selected: Path | None,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    if podman_refused_unless_selected is not None:
        monkeypatch.setenv(CALLED_BY, request.node.nodeid)


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def alone(locks: Path) -> Iterator[None]:
    """Held while no `shared` holder runs; new ones wait at the turnstile meanwhile."""
    with _locked(locks / "turnstile.lock", fcntl.LOCK_EX), _locked(locks / "machine.lock", fcntl.LOCK_EX):
        yield


@contextmanager
def shared(locks: Path) -> Iterator[None]:
    with ExitStack() as held:
        with _locked(locks / "turnstile.lock", fcntl.LOCK_EX):  # passed through at once unless `alone` waits
            held.enter_context(_locked(locks / "machine.lock", fcntl.LOCK_SH))  # held until the test ends
        yield


def alone_first(items: list[pytest.Item]) -> None:
    """Order the `alone` tests first, then the tests without podman, then the other podman tests (each group
    in its own order). Every worker collects the same list and pytest-xdist hands out contiguous runs of it,
    so the `alone` tests start at once, in one worker, while the others run tests that need no podman."""
    def group(item: pytest.Item) -> int:
        return 0 if item.get_closest_marker("alone") else 2 if item.get_closest_marker("podman") else 1
    items.sort(key=group)


def wait_for_the_alone_tests(locks: Path, count: int, patience: float = GATE_PATIENCE) -> None:
    """Until `count` alone tests have finished (lines in alone-done), or none finished for `patience` s."""
    done = locks / "alone-done"
    progress = time.monotonic()
    finished = -1
    while True:
        now_finished = len(done.read_text().splitlines()) if done.exists() else 0
        if now_finished >= count:
            return
        if now_finished != finished:
            finished, progress = now_finished, time.monotonic()
        if time.monotonic() - progress > patience:
            return
        time.sleep(0.2)


def _finished_alone(locks: Path, nodeid: str) -> None:
    with _locked(locks / "alone-done.lock", fcntl.LOCK_EX), open(locks / "alone-done", "a") as done:
        done.write(nodeid.replace("\n", " ") + "\n")


def _locks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's temporary folder, which pytest cleans up: each worker's own is a folder in it."""
    folder = tmp_path_factory.getbasetemp()
    return folder.parent if os.environ.get("PYTEST_XDIST_WORKER") else folder


@pytest.fixture(scope="session")
def alone_tests_done(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The gate, passed once per worker: by its first shared podman test."""
    wait_for_the_alone_tests(_locks(tmp_path_factory),
                             sum(1 for item in request.session.items if item.get_closest_marker("alone")))


@pytest.fixture(autouse=True)
def alone_or_shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if not request.node.get_closest_marker("podman"):
        yield
        return
    locks = _locks(tmp_path_factory)
    if request.node.get_closest_marker("alone"):
        try:
            with alone(locks):
                yield
        finally:
            _finished_alone(locks, request.node.nodeid)
        return
    request.getfixturevalue("alone_tests_done")  # asked for here only: the tests without podman never wait
    with shared(locks):
        yield
