"""A submission whose every file is refused offline starts no backend: no podman call, no kind download,
no cluster. That is a student's very first run (the untouched starter of any lab), on the default backend."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.grading import grade_lab
from tests.labs import LabUnderTest, find_labs

LABS = find_labs()


def shims(folder: Path) -> Path:
    """podman, kind and docker that only record their calls (and fail, as if broken)."""
    log = folder / "calls.log"
    for tool in ("podman", "kind", "docker"):
        shim = folder / tool
        shim.write_text(f"#!/bin/sh\necho \"{tool} $*\" >> '{log}'\nexit 1\n")
        shim.chmod(0o755)
    return log


@pytest.mark.parametrize("lab", LABS, ids=[lab.id for lab in LABS])
@pytest.mark.parametrize("backend", ["kind", "podman"])
def test_untouched_starter_starts_no_backend(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                             backend: str, lab: LabUnderTest) -> None:
    bin_dir = pytester.mkdir("bin")
    log = shims(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", backend, "--submission", str(lab.folder), "--grade-report", str(report),
                       lab=lab.folder)
    assert not log.exists(), f"a backend was started: {log.read_text()}"
    grade = json.loads(report.read_text())
    assert grade["score"] == 0 and result.ret == 1
    statuses = {check["id"]: check["status"] for check in grade["checks"]}
    assert set(statuses.values()) == {"failed"}, statuses  # the student's to fix, never an infrastructure error
    assert re.search(r"still holds? \d+ TODOs?:", grade["checks"][0]["message"])
    result.stdout.no_fnmatch_line("*Traceback*")
