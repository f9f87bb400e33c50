"""The `podman` marker is complete: a session that selects no podman test (`-m "not podman"`, the fast
loop) runs with a podman on PATH that refuses to work and records who called it, so a test that starts
Pods without the marker fails the session by name, even one that would pass without podman."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Iterator

import pytest

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
