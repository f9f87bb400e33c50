"""One grading run of one lab: the submission, the sandbox it was applied to, and what checks share."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from graders.backends.base import ApplyRejected, Sandbox
from graders.errors import CheckFailed, GraderError
from graders.lab import Check, Lab
from graders.manifests import Submission
from graders.run_state import RunState
from graders.timeouts import Timeouts as Timeouts


@dataclass
class LabRun:
    lab: Lab
    submission: Submission
    sandbox: Sandbox
    timeouts: Timeouts
    # What the backend can do (graders/capabilities.py): e.g. with "readiness-probes" its kubelet runs
    # them, without it the checks run them from the grader's side. Empty: nothing beyond Pods.
    capabilities: frozenset[str] = frozenset()
    # object_key -> ApplyRejected, or InfraError
    apply_errors: dict[str, GraderError] = field(default_factory=dict)
    state: RunState = field(default_factory=RunState)  # what checks learn and share (a Pod became Ready)
    notes: list[str] = field(default_factory=list)  # hints for the check being graded, even if it passes
    _run_timeouts: Timeouts = field(init=False, repr=False)  # the run's, before a check's own replace them

    def __post_init__(self) -> None:
        self._run_timeouts = self.timeouts

    def apply_all(self) -> None:
        """Create the other kinds first (a ConfigMap exists before a Pod mounts it), then every accepted
        Pod at once, so their images pull and start in parallel. An object that could not be created fails
        (or errors) only the checks of that object."""
        for item in self.submission.applicable():
            if item["kind"] != "Pod":
                self._apply(item)
        pods = list(self.submission.pods.values())
        if pods:
            with ThreadPoolExecutor(max_workers=len(pods)) as pool:
                list(pool.map(self._apply, pods))

    def _apply(self, item: dict[str, Any]) -> None:
        try:
            self.sandbox.apply(item, timeout=self.timeouts.apply)
        except GraderError as error:
            self.apply_errors[object_key(item["kind"], item["metadata"]["name"])] = error

    def require(self, pod: str, kind: str = "Pod") -> None:
        """Fail the current check when the object (a Pod unless kind says otherwise) never reached the
        cluster, saying why."""
        reason = self.submission.why_not_gradable(pod, kind)
        error = self.apply_errors.get(object_key(kind, pod))
        hint = ""  # the reason says where to look (the manifests check above, the field to move)
        if reason is None and error is not None:
            if not isinstance(error, ApplyRejected):
                raise error  # an infrastructure problem: not graded, not the student's fault
            reason = f"the cluster refused {kind} {pod}: {error}"
            hint = "fix the field the cluster names, then run again"
        if reason:
            raise CheckFailed(expected=f"{kind} {pod} to be created from your YAML", observed=f"not graded: {reason}",
                              hint=hint)

    def begin(self, check: Check) -> None:
        """The check about to be graded (the plugin calls this): a cause is said in full by the first check it
        stops, and the later checks point to that one (graders/checks/pods.py because). Its own timeouts, if it
        declares any, replace the run's defaults while it runs (graders/timeouts.py)."""
        self.state.check = check.id
        self.timeouts = self._run_timeouts.for_check(dict(check.timeouts))

    def note(self, text: str) -> None:
        self.notes.append(text)


def object_key(kind: str, name: str) -> str:
    """How apply_errors names an object: a Pod by its name (as checks ask for it), others as Kind/name."""
    return name if kind == "Pod" else f"{kind}/{name}"
