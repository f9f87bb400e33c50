"""What the checks of one grading run learn and share, typed: for each Pod (its readiness deadline, the outcome
of each wait, the ports where nothing answered, when each run of a container was first seen, what its
containers run) and for the run (the check being graded, which check said each failure in full, the nodes'
labels). This module owns it: checks and tests read and write it through these methods only.

A remembered failure is kept as the object that was raised, so that every later check raises it word for
word and the report (graders/report.py FailureBlocks) shows it in full once and points to it from the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Mapping, Union

from graders.backends.base import PodState
from graders.errors import CheckFailed


class Wait(Enum):
    """What a check waits for a Pod to reach (graders/checks/pods.py wait_started, wait_running)."""

    STARTED = "started"  # every container runs, Ready or not
    READY = "ready"  # every container runs and is Ready


# What a wait ended with: the state it reached, or the failure every later check of the Pod repeats word for
# word. An infrastructure error (an image still pulling at the deadline) is not an outcome: not remembered.
Outcome = Union[PodState, CheckFailed]
Identity = tuple[str, str, Union[str, None]]  # (container, image, program) as a check asks for them


@dataclass
class PodRun:
    """What the run learned about one Pod."""

    _deadline: float | None = field(default=None, init=False, repr=False)
    _outcomes: dict[Wait, Outcome] = field(default_factory=dict, init=False, repr=False)
    _silent: set[int] = field(default_factory=set, init=False, repr=False)
    _seen: dict[tuple[str, str, int], float] = field(default_factory=dict, init=False, repr=False)
    _identity: dict[Identity, CheckFailed | None] = field(default_factory=dict, init=False, repr=False)
    _file: str | None = field(default=None, init=False, repr=False)

    def deadline(self, ready: float) -> float:
        """The Pod's one readiness deadline (time.monotonic()), set by the first check that waits for it,
        `ready` seconds from then, and shared by every later one."""
        if self._deadline is None:
            self._deadline = time.monotonic() + ready
        return self._deadline

    def outcome(self, wait: Wait) -> Outcome | None:
        """What this wait ended with, None while no check has waited to the end."""
        return self._outcomes.get(wait)

    def remember(self, wait: Wait, outcome: Outcome) -> None:
        """The outcome of a wait, for every later check of the Pod (a later fatal state replaces a stale one:
        a Pod evicted after its containers had started)."""
        self._outcomes[wait] = outcome

    def is_silent(self, port: int) -> bool:
        """True once nothing answered on this port through one check's whole wait."""
        return port in self._silent

    def mark_silent(self, port: int) -> None:
        self._silent.add(port)

    def first_seen(self, what: str, container: str, restarts: int) -> float:
        """When the grader first saw this run of the container (told apart by its restarts) in the state `what`
        ("running", or "ready-able": its readiness probe's tries begin): time.monotonic(), set at the first call."""
        return self._seen.setdefault((what, container, restarts), time.monotonic())

    def identity(self, key: Identity, judge: Callable[[], CheckFailed | None]) -> CheckFailed | None:
        """What is wrong with what a container runs (None: the lab's image and program), judged once."""
        if key not in self._identity:
            self._identity[key] = judge()
        return self._identity[key]

    def file(self, find: Callable[[], str]) -> str:
        """The file the student wrote the Pod in, found once."""
        if self._file is None:
            self._file = find()
        return self._file


@dataclass
class RunState:
    """What the checks of one run share: one PodRun per Pod, and what belongs to the run as a whole."""

    check: str = ""  # the check being graded (the plugin says which: LabRun.begin)
    _pods: dict[str, PodRun] = field(default_factory=dict, init=False, repr=False)
    # id(failure) -> (the failure, kept so that its id stays its own; the check that said it in full)
    _said: dict[int, tuple[CheckFailed, str]] = field(default_factory=dict, init=False, repr=False)
    _node_labels: Mapping[str, frozenset[str]] | None = field(default=None, init=False, repr=False)

    def pod(self, name: str) -> PodRun:
        return self._pods.setdefault(name, PodRun())

    def said_by(self, failure: CheckFailed) -> str:
        """The check that says this failure in full: the check being graded, unless an earlier one said it."""
        return self._said.setdefault(id(failure), (failure, self.check))[1]

    def node_labels(self, read: Callable[[], Mapping[str, frozenset[str]]]) -> Mapping[str, frozenset[str]]:
        """The labels of the backend's nodes, read once a run."""
        if self._node_labels is None:
            self._node_labels = read()
        return self._node_labels
