"""The graders' own errors: third-party exceptions never reach a student."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

# Set when the run is interrupted (Ctrl-C, SIGTERM): a library that turns KeyboardInterrupt into its own
# error (the Kubernetes client's stream()) must not make the run carry on.
interrupted = threading.Event()


# A hint that begins with the file and field at fault, as the checks write it ("web.yaml, spec.containers[0]")
_NAMES_A_FIELD = re.compile(r"^\S+\.ya?ml, (?:spec|metadata)[.\[]")


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
        """One line for the end-of-run summary: what the cluster showed, and the cause when the hint names
        the field at fault (`app.yaml, spec.containers[0].volumeMounts[0].mountPath: ...`): a CrashLoopBackOff
        alone does not say what to change."""
        shown = next((line.strip(" -").rstrip(":") for line in self.observed.splitlines() if line.strip()),
                     self.expected)  # a list's lead-in ("... still hold TODO placeholders:") ends without its colon
        if _NAMES_A_FIELD.match(self.hint) and self.hint not in shown:
            return f"{shown}; cause: {self.hint.split('. ')[0]}"
        return shown

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
