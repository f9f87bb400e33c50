"""A Pod's log lines reach a real terminal and the Classroom job's output quoted (issue 20, 6): the sidecar of
tests/submissions/1.1/hostile-log-control prints terminal escapes (clear screen, a window title, CSI as \\x9b, a
vertical tab), GitHub workflow commands and a fake score line, then exits; its last lines are quoted in the
failure of each sidecar check."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.grading import REPO, SUBMISSIONS, grader_command

pytestmark = pytest.mark.podman
HOSTILE = SUBMISSIONS / "hostile-log-control"
POD_ESCAPES = (b"\x1b[2J", b"\x1b]0;title", b"\x07", b"\xc2\x9b", b"\x0b")  # what the sidecar printed, raw
SIDECAR_CHECKS = ("sidecar-ready", "sidecar-localhost", "sidecar-shared-volume")


def workflow_commands(text: str) -> list[str]:
    """Lines GitHub Actions would run as workflow commands (`::` after leading spaces, `##[` anywhere)."""
    return [line for line in text.splitlines() if line.lstrip().startswith("::") or "##[" in line]


def test_a_terminal_gets_the_pods_escapes_as_text_never_as_escapes(tmp_path: Path) -> None:
    report = tmp_path / "grade.json"
    main, child = pty.openpty()  # a real terminal: pytest colours its own words, the Pod's stay text
    command = grader_command("--backend", "podman", "--submission", str(HOSTILE), "--color=yes",
                             "--grade-report", str(report))
    process = subprocess.Popen(command, cwd=tmp_path, stdin=child, stdout=child, stderr=child,
                               env={**os.environ, "TERM": "xterm"})
    os.close(child)
    output = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other side closed: the run is over
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=300)
    os.close(main)
    text = output.decode("utf-8", "replace")
    assert "Last log lines of app-with-sidecar/log-shipper" in text, text[-3000:]
    for raw in POD_ESCAPES:
        assert raw not in output, (raw, text[-3000:])
    assert "\\x1b[2J" in text and "\\x9b csi\\x0bvertical" in text  # shown, escaped
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # pytest's own colours
    assert [line for line in plain.splitlines() if line.lstrip().startswith("Score:")] == [
        f"Score: {json.loads(report.read_text())['score']}/100 (backend podman)"]


def test_the_classroom_steps_print_no_workflow_command_and_no_score_of_the_pods(tmp_path: Path) -> None:
    report = tmp_path / "grade.json"
    subprocess.run(grader_command("--backend", "podman", "--submission", str(HOSTILE), "--grade-report", str(report)),
                   cwd=tmp_path, capture_output=True, timeout=300)
    checks = {check["id"]: check for check in json.loads(report.read_text())["checks"]}
    assert all(checks[cid]["status"] == "failed" for cid in SIDECAR_CHECKS)
    steps = []
    for cid in SIDECAR_CHECKS:  # what each scored step of the Classroom workflow prints (graders/classroom.py score)
        step = subprocess.run([sys.executable, "-m", "graders.classroom", "score", str(report), cid], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        steps.append(step.stdout)
        assert step.returncode == 1
        assert workflow_commands(step.stdout) == [], step.stdout
        assert not re.search(r"^\s*Score\s*:", step.stdout, re.M | re.I), step.stdout
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", step.stdout), step.stdout
    assert "::add-mask::secret" in steps[0], steps  # the Pod's log, quoted and still readable
    summary = subprocess.run([sys.executable, "-m", "graders.classroom", "summary", str(report)], cwd=REPO,
                             capture_output=True, text=True, timeout=60).stdout
    assert workflow_commands(summary) == [] and not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", summary)
