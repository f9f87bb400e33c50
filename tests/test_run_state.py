"""What the checks of a run share, through graders/run_state.py's public calls only."""

from __future__ import annotations

import time

from graders.backends.base import PodState
from graders.errors import CheckFailed
from graders.run_state import RunState, Wait


def test_a_pods_deadline_is_set_by_the_first_wait_and_shared_by_the_later_ones() -> None:
    pod = RunState().pod("web")
    before = time.monotonic()
    first = pod.deadline(180)
    assert before + 180 <= first <= time.monotonic() + 180
    assert pod.deadline(5) == first  # a later check does not move it


def test_each_pod_has_its_own_state() -> None:
    state = RunState()
    state.pod("web").mark_silent(80)
    assert state.pod("web").is_silent(80) and not state.pod("web").is_silent(8080)
    assert not state.pod("db").is_silent(80)
    assert state.pod("web") is state.pod("web")


def test_a_failure_is_said_in_full_by_the_first_check_it_stops() -> None:
    state = RunState()
    failure = CheckFailed(expected="x", observed="y", hint="z")
    state.check = "first-pod-ready"
    assert state.said_by(failure) == "first-pod-ready"
    state.check = "first-pod-serves"
    assert state.said_by(failure) == "first-pod-ready"
    same_words = CheckFailed(expected="x", observed="y", hint="z")  # another failure: its own first check
    assert state.said_by(same_words) == "first-pod-serves"


def test_a_later_fatal_outcome_replaces_a_stale_one_and_each_wait_keeps_its_own() -> None:
    pod = RunState().pod("web")
    running = PodState(name="web", phase="Running", labels={}, spec={}, containers=())
    evicted = CheckFailed(expected="Pod web to keep running", observed="evicted", hint="")
    assert pod.outcome(Wait.STARTED) is None
    pod.remember(Wait.STARTED, running)
    pod.remember(Wait.STARTED, evicted)
    assert pod.outcome(Wait.STARTED) is evicted and pod.outcome(Wait.READY) is None


def test_what_is_judged_once_is_judged_once() -> None:
    state, calls = RunState(), []
    pod = state.pod("web")

    def judge() -> CheckFailed | None:
        calls.append("judged")
        return None

    assert pod.identity(("app", "nginx:1.25", "nginx"), judge) is None
    assert pod.identity(("app", "nginx:1.25", "nginx"), judge) is None
    assert pod.file(lambda: "web.yaml") == pod.file(lambda: "other.yaml") == "web.yaml"
    assert state.node_labels(lambda: {"a": frozenset({"b"})}) == state.node_labels(dict) == {"a": frozenset({"b"})}
    seen = pod.first_seen("running", "app", 0)
    time.sleep(0.01)
    assert pod.first_seen("running", "app", 0) == seen < pod.first_seen("running", "app", 1)  # a restart: a new run
    assert calls == ["judged"]
