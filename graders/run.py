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
    apply_errors: dict[str, str] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # results checks share (a Pod became Ready)
    notes: list[str] = field(default_factory=list)  # hints for the check being graded, even if it passes

    def apply_all(self) -> None:
        """Create every accepted Pod at once, so their images pull and start in parallel."""
        pods = list(self.submission.pods.values())
        if not pods:
            return
        with ThreadPoolExecutor(max_workers=len(pods)) as pool:
            outcomes = list(pool.map(self._apply, pods))
        for outcome in outcomes:
            if isinstance(outcome, GraderError) and not isinstance(outcome, ApplyRejected):
                raise outcome

    def _apply(self, pod: dict[str, Any]) -> GraderError | None:
        try:
            self.sandbox.apply(pod, timeout=self.timeouts.apply)
        except ApplyRejected as rejected:
            self.apply_errors[pod["metadata"]["name"]] = str(rejected)
            return rejected
        except GraderError as error:
            return error
        return None

    def require(self, pod: str) -> None:
        """Fail the current check when the Pod never reached the cluster, saying why."""
        reason = self.submission.why_not_gradable(pod)
        if reason is None and pod in self.apply_errors:
            reason = f"the cluster refused Pod {pod}: {self.apply_errors[pod]}"
        if reason:
            raise CheckFailed(
                expected=f"Pod {pod} to be created from your YAML",
                observed=f"not graded: {reason}",
                hint="fix the problems reported by the 'manifests' check first")

    def note(self, text: str) -> None:
        self.notes.append(text)
