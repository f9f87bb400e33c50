"""How long each operation of a grading run may take, as chainsaw bounds each operation: the run's values
(defaults below, `--timeout-NAME` or ini `grader_timeout_NAME`), and what one check declares for itself next
to its declaration:

    @lab.check("cleanup", 10, "both Pods delete cleanly", section="part-3-clean-up", timeouts={"delete": 90})

A check may declare the operations it bounds itself (CHECK_TIMEOUTS). `apply` is spent before any check runs,
and `ready` is the Pod's one readiness deadline, shared by all its checks: both are the run's only. A value
the user set (command line or ini) wins over a check's own: it is the answer to a slow machine that every
hint gives ("raise --timeout-ready").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

# Upper bound: every wait needs an end a person lives to see, and huge numbers break the layers below
# (threading's waits raise OverflowError for 1e20 s; podman gets `stop -t 100000000000000000000`).
MAX_TIMEOUT = 24 * 3600.0


@dataclass(frozen=True)
class Timeouts:
    """Seconds each operation may take before the grader gives up on it."""

    apply: float = 60  # create one Pod
    ready: float = 180  # a Pod's containers running (a cold kind cluster pulls images first)
    exec: float = 10  # one command in a container, and how long its effects may take to show
    delete: float = 60  # one Pod gone after deletion
    # a request a container logged to reach another container through a shared volume, and its output
    # (`tail -F` looks once a second)
    show_up: float = 5
    given: frozenset[str] = frozenset()  # the ones the user set: a check's own values do not replace these

    def for_check(self, declared: Mapping[str, float]) -> Timeouts:
        """These timeouts with a check's own declared values in place of the defaults."""
        own: dict[str, Any] = {name: value for name, value in declared.items() if name not in self.given}
        return dataclasses.replace(self, **own)


# The run's timeouts a user sets (one --timeout-NAME and ini key each): name -> what it bounds, for the help.
OPTIONS = {"apply": "create one Pod", "ready": "wait for a Pod's containers to run",
           "exec": "run one command in a container", "delete": "wait for a deleted Pod to be gone"}
CHECK_TIMEOUTS = ("exec", "delete", "show_up")  # what a check may declare for itself


def declared(lab: str, check: str, timeouts: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """A check's own timeouts, checked when the rubric is read: known names, seconds above 0, at most a day."""
    for name, value in timeouts.items():
        where = f"lab {lab}, check {check}: timeouts[{name!r}]"
        if name not in CHECK_TIMEOUTS:
            run_only = f" is the run's ({'--timeout-' + name}), not a check's" if name in OPTIONS else " is unknown"
            raise ValueError(f"{where}{run_only}; a check declares {', '.join(CHECK_TIMEOUTS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:  # nan too
            raise ValueError(f"{where}: give a number of seconds above 0, at most {MAX_TIMEOUT:.0f}")
    return tuple((name, float(value)) for name, value in timeouts.items())
