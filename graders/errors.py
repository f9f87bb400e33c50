"""The graders' own errors: third-party exceptions never reach a student."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# Set when the run is interrupted (Ctrl-C, SIGTERM): a library that turns KeyboardInterrupt into its own
# error (the Kubernetes client's stream()) must not make the run carry on.
interrupted = threading.Event()


class GraderError(Exception):
    """Base of every error the graders raise on purpose."""


@dataclass
class CheckFailed(GraderError):
    """The submission does not do what the lesson asks: the student loses the check's points."""

    expected: str
    observed: str
    hint: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)  # (title, text): logs, events

    @property
    def headline(self) -> str:
        """One line for the end-of-run summary: what the cluster showed."""
        return next((line.strip(" -") for line in self.observed.splitlines() if line.strip()), self.expected)

    def __str__(self) -> str:
        lines = [f"Expected: {self.expected}", f"Observed: {self.observed}"]
        if self.hint:
            lines.append(f"Hint:     {self.hint}")
        for title, text in self.details:
            if text.strip():
                lines.append(f"{title}:")
                lines.extend(f"    {line}" for line in text.rstrip().splitlines())
        return "\n".join(lines)


@dataclass
class InfraError(GraderError):
    """The grader could not do its work (no cluster, no podman, a hung exec): not the student's fault."""

    problem: str
    tried: list[str] = field(default_factory=list)
    fix: str = ""

    @property
    def headline(self) -> str:
        return f"not graded: {self.problem}"

    def __str__(self) -> str:
        return self.told("Infrastructure problem (no points lost)")

    def told(self, heading: str) -> str:
        """The problem under a heading of the caller's: a command that grades nothing loses no points."""
        lines = [f"{heading}: {self.problem}"]
        lines.extend(f"  tried: {attempt}" for attempt in self.tried)
        if self.fix:
            lines.append(f"  fix:   {self.fix}")
        return "\n".join(lines)
