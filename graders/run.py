"""One grading run of one lab: the submission, the sandbox it was applied to, and what checks share."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from graders.backends.base import ApplyRejected, Sandbox
from graders.errors import CheckFailed, GraderError
from graders.lab import Lab
from graders.manifests import Submission


@dataclass(frozen=True)
class Timeouts:
    """Seconds each operation may take before the grader gives up on it."""

    apply: float = 60  # create one Pod
    ready: float = 180  # a Pod's containers running (a cold kind cluster pulls images first)
    exec: float = 10  # one command in a container, and how long its effects may take to show
    delete: float = 60  # one Pod gone after deletion


@dataclass
class LabRun:
    lab: Lab
    submission: Submission
    sandbox: Sandbox
    timeouts: Timeouts
    apply_errors: dict[str, GraderError] = field(default_factory=dict)  # ApplyRejected, or InfraError
    memo: dict[Any, Any] = field(default_factory=dict)  # results checks share (a Pod became Ready)
    notes: list[str] = field(default_factory=list)  # hints for the check being graded, even if it passes

    def apply_all(self) -> None:
        """Create every accepted Pod at once, so their images pull and start in parallel. A Pod that
        could not be created fails (or errors) only the checks of that Pod."""
        pods = list(self.submission.pods.values())
        if pods:
            with ThreadPoolExecutor(max_workers=len(pods)) as pool:
                list(pool.map(self._apply, pods))

    def _apply(self, pod: dict[str, Any]) -> None:
        try:
            self.sandbox.apply(pod, timeout=self.timeouts.apply)
        except GraderError as error:
            self.apply_errors[pod["metadata"]["name"]] = error

    def require(self, pod: str) -> None:
        """Fail the current check when the Pod never reached the cluster, saying why."""
        reason = self.submission.why_not_gradable(pod)
        error = self.apply_errors.get(pod)
        if reason is None and error is not None:
            if not isinstance(error, ApplyRejected):
                raise error  # an infrastructure problem: not graded, not the student's fault
            reason = f"the cluster refused Pod {pod}: {error}"
        if reason:
            raise CheckFailed(
                expected=f"Pod {pod} to be created from your YAML",
                observed=f"not graded: {reason}",
                hint="fix the problems reported by the 'manifests' check first")

    def note(self, text: str) -> None:
        self.notes.append(text)
