"""Progress of a re-grade while it runs: how many students are done, for how long, and about how long is left.

On a terminal: one line that updates in place (every second, and as each student finishes), with a bar,
done/total, the time elapsed and an estimate; problems (a student's `error`) are printed above it as they
happen. In a log (no terminal: CI, `| tee`, a file): one line per finished student, nothing rewritten.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import Callable, TextIO

BAR = 20  # characters of the bar
TICK = 1.0  # seconds between redraws of the terminal line


class Progress:
    def __init__(self, total: int, stream: TextIO, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.stream, self.clock = total, stream, clock
        self.tty = stream.isatty() if tty is None else tty
        self.done, self.last = 0, ""
        self.start = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> "Progress":
        if self.tty:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, name="regrade-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.tty:
            with self._lock:
                self.stream.write("\r\033[K" + self.line() + "\n")  # the final state stays on screen
                self.stream.flush()

    def finished(self, line: str, problem: bool = False) -> None:
        """One student is done; line says how it went (`alice: 85/100 graded (12.3 s)`)."""
        with self._lock:
            self.done += 1
            self.last = line
            if not self.tty:
                self.stream.write(f"[{self.done}/{self.total}] {line}\n")
            elif problem:  # kept on screen above the updating line
                self.stream.write(f"\r\033[K[{self.done}/{self.total}] {line}\n")
            if self.tty:
                self._draw_locked()
            self.stream.flush()

    def line(self) -> str:
        """`[████████░░░░░░░░░░░░] 12/30 (40%)  1:02 elapsed, about 1:33 left  · alice: 85/100 graded`"""
        elapsed = self.clock() - self.start
        share = self.done / self.total if self.total else 1.0
        filled = round(share * BAR)
        if self.done == 0:
            estimate = "estimating the time left"
        elif self.done == self.total:
            estimate = "done"
        else:
            estimate = f"about {clock_time(elapsed / self.done * (self.total - self.done))} left"
        text = (f"[{'█' * filled}{'░' * (BAR - filled)}] {self.done}/{self.total} ({share:.0%})  "
                f"{clock_time(elapsed)} elapsed, {estimate}")
        return text + (f"  · {self.last}" if self.last else "")

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            self._draw_locked()

    def _draw_locked(self) -> None:
        width = shutil.get_terminal_size((100, 24)).columns - 1  # a wrapped line could not be rewritten
        self.stream.write("\r\033[K" + self.line()[:max(width, 20)])
        self.stream.flush()


def clock_time(seconds: float) -> str:
    """12:05 (minutes:seconds), 1:02:05 past an hour."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
