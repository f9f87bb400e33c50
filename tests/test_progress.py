"""A re-grade's progress: one updating line on a terminal, one line per finished student in a log."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from graders.progress import Progress, clock_time


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_each_finished_student_is_one_line_and_nothing_is_rewritten() -> None:
    log, clock = io.StringIO(), Clock()
    with Progress(3, log, clock=clock) as progress:
        progress.finished("alice: 85/100 graded (12.3 s)")
        progress.finished("bob: error (61.0 s)  podman did not answer", problem=True)
    assert log.getvalue() == "[1/3] alice: 85/100 graded (12.3 s)\n[2/3] bob: error (61.0 s)  podman did not answer\n"


def test_on_a_terminal_one_line_shows_done_total_elapsed_and_an_estimate() -> None:
    screen, clock = Terminal(), Clock()
    progress = Progress(30, screen, clock=clock)
    assert progress.tty
    with progress:
        assert progress.line().startswith("[░░░░░░░░░░░░░░░░░░░░] 0/30 (0%)  0:00 elapsed, estimating the time left")
        clock.now += 62
        for _ in range(12):
            progress.finished("alice: 85/100 graded (12.3 s)")
        # 12 students in 62 s: the 18 left take about 93 s more
        assert progress.line() == ("[████████░░░░░░░░░░░░] 12/30 (40%)  1:02 elapsed, about 1:33 left  "
                                   "· alice: 85/100 graded (12.3 s)")
        progress.finished("bob: error (61.0 s)  podman did not answer", problem=True)
    shown = screen.getvalue()
    assert "\n[" not in shown.replace("\r\x1b[K[13/30] bob", "")  # the line is rewritten in place, not repeated
    assert "\r\x1b[K[13/30] bob: error (61.0 s)  podman did not answer\n" in shown  # a problem stays on screen
    assert shown.endswith("13/30 (43%)  1:02 elapsed, about 1:21 left  · bob: error (61.0 s)  podman did not "
                          "answer\n")


def test_clock_times() -> None:
    assert [clock_time(s) for s in (0, 59.6, 62, 3599, 3725)] == ["0:00", "1:00", "1:02", "59:59", "1:02:05"]


def test_a_regrade_on_a_real_terminal_updates_one_line(tmp_path: Path) -> None:
    """Through a pseudo-terminal, as an instructor runs it: students who need no run (not started, no lab) end
    at once; the line shows them, and the summary follows it."""
    from tests.test_regrade import student_repo
    root = tmp_path / "student-repos"
    root.mkdir()
    student_repo(root, "untouched")
    (student_repo(root, "no-lab") / "labs").rename(tmp_path / "moved")
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "graders.regrade", str(root), "--lab", "1.1", "--backend",
                                "podman", "--out", str(tmp_path / "out")], stdout=secondary, stderr=secondary,
                               stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1],
                               env={**os.environ, "COLUMNS": "160"})
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the other end closed: the re-grade ended
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=300) == 0, output.decode()
    text = output.decode()  # the time it took is not asserted: a busy machine is slow
    assert re.search(r"\r\x1b\[K\[█{20}\] 2/2 \(100%\)  \d+:\d\d elapsed, done  · ", text), text
    assert "[1/2]" not in text  # no line per student on a terminal
    assert "== class summary: 2 students, backend podman ==" in text
