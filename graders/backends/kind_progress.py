"""What a user sees while kind works for minutes: progress lines on the terminal itself (pytest's capture
does not hide them), and a line at least every PROGRESS_EVERY seconds while something slow runs."""

from __future__ import annotations

import os
import sys
import threading
import time

from graders.backends.kind_binary import Progress

PROGRESS_EVERY = 10.0  # seconds at most between two progress lines while creating or waiting
# The user's terminal, which pytest's output capture (of file descriptors 1 and 2) does not redirect
TERMINAL = "CONOUT$" if os.name == "nt" else "/dev/tty"


def terminal_progress(line: str) -> None:
    """Show a step to the user at once, also under pytest's capture: a first run takes minutes and
    must not look frozen. Without a terminal (CI), to stderr."""
    text = f"kind: {line}\n"
    try:
        with open(TERMINAL, "a", encoding="utf-8", errors="replace") as terminal:
            terminal.write(text)
        return
    except OSError:
        pass
    sys.stderr.write(text)
    sys.stderr.flush()


class Ticker:
    """Progress at least every PROGRESS_EVERY seconds while something slow runs: a line of its own
    (`beat`) resets the clock; otherwise `still WHAT (N s so far)` is shown, so a first run never looks
    frozen (kind prints nothing while it pulls the node image, for minutes)."""

    def __init__(self, progress: Progress, what: str) -> None:
        self.progress, self.what = progress, what
        self.start = self.last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="kind-progress")

    def __enter__(self) -> "Ticker":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def beat(self, line: str) -> None:
        self.last = time.monotonic()
        self.progress(line)

    def _run(self) -> None:
        while not self._stop.wait(max(0.05, self.last + PROGRESS_EVERY - time.monotonic())):
            if time.monotonic() - self.last >= PROGRESS_EVERY:
                self.beat(f"[{time.monotonic() - self.start:4.0f} s] still {self.what}")
