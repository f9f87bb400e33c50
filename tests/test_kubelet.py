"""The grader's kubelet (graders/kubelet.py, graders/backends/podman/kubelet.py) against the kubelet's own rules,
on a fake runtime and a clock the test moves: no podman, no waiting for real back-offs.

Sources (kubernetes/kubernetes, facts only): pkg/kubelet/kubelet.go (backOffPeriod 10 s, MaxContainerBackOff
300 s), staging/src/k8s.io/client-go/util/flowcontrol/backoff.go (the first start is never held, each later one
twice as long up to the maximum, afresh after twice the maximum), pkg/kubelet/prober/worker.go (failureThreshold
failures in a row), pkg/kubelet/kuberuntime/kuberuntime_manager.go (a container whose liveness probe failed is
killed and started again unless restartPolicy is Never).
"""

from __future__ import annotations

import threading
import time

import pytest

from graders import kubelet
from graders.backends.podman import kubelet as podman_kubelet
from graders.backends.podman.kubelet import Kubelet, Run


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRuntime:
    """One Pod's containers as podman would report them; starts, stops and events recorded."""

    def __init__(self, clock: Clock, probe_answers: list[tuple[bool, str]] | None = None) -> None:
        self.clock = clock
        self.runs: dict[str, Run] = {}
        self.starts: list[float] = []
        self.stops: list[tuple[str, int]] = []
        self.events: list[str] = []
        self.probe_answers = probe_answers or []
        self.lock = threading.Lock()

    def run(self, container: str, began: float) -> None:
        with self.lock:
            self.runs[container] = Run("running", 0, f"run-{began}", began, 0.0, None)

    def exit(self, container: str, code: int = 1) -> None:
        with self.lock:
            old = self.runs[container]
            self.runs[container] = Run("exited", 0, old.began, old.began_at, self.clock(), code)

    def inspect(self, pod: str) -> dict[str, Run]:
        with self.lock:
            return dict(self.runs)

    def start(self, pod: str, container: str) -> str:
        self.starts.append(self.clock())
        self.run(container, self.clock())
        return ""

    def stop(self, pod: str, container: str, grace: int) -> None:
        self.stops.append((container, grace))
        self.exit(container, 0)

    def probe(self, pod: str, container: str, probe: kubelet.Probe) -> tuple[bool | None, str]:
        return self.probe_answers.pop(0) if self.probe_answers else (True, "")

    def note(self, pod: str, text: str) -> None:
        self.events.append(text)


@pytest.fixture
def no_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kubelet's own loop never ticks during a test (it waits TICK seconds first): the test ticks."""
    monkeypatch.setattr(podman_kubelet, "TICK", 3600.0)


def test_backoff_follows_the_kubelets_numbers() -> None:
    backoff, key = kubelet.BackOff(), ("web", "app")
    assert backoff.held_for(key, finished=0, now=0) == 0  # the first restart is never held
    holds = []
    now = 0.0
    for _ in range(8):
        backoff.started(key, finished=now, now=now)
        holds.append(backoff.hold(key))
    assert holds == [10, 20, 40, 80, 160, 300, 300, 300]
    assert backoff.held_for(key, finished=now, now=now + 100) == 200
    # a run longer than twice the maximum (10 minutes) ends the back-off: the next start is at once
    assert backoff.held_for(key, finished=now + 601, now=now + 601) == 0


def test_a_container_that_keeps_exiting_is_restarted_with_back_off_not_at_once(no_loop: None) -> None:
    """The restart storm of issue 20: podman restarted at once, for ever; the grader's kubelet starts a
    container again at once after its first end, then 10 s, 20 s, 40 s later, and says CrashLoopBackOff."""
    clock = Clock()
    runtime = FakeRuntime(clock)
    runtime.run("app", clock.now)
    k = Kubelet(runtime, clock=clock)
    spec = {"containers": [{"name": "app", "image": "busybox:1.36"}]}
    k.add("web", spec)
    pod = k.pods["web"]
    try:
        k.tick(pod)
        began = clock.now
        for _ in range(4):  # each run ends one second after it started
            clock.now += 1
            runtime.exit("app")
            for _ in range(200):  # half-second ticks until it runs again (or 100 s)
                k.tick(pod)
                if runtime.runs["app"].running:
                    break
                clock.now += 0.5
        # the gaps between an end and the next start
        ends = [began + 1] + [start + 1 for start in runtime.starts[:-1]]
        gaps = [round(start - end, 1) for start, end in zip(runtime.starts, ends, strict=True)]
        assert gaps == [0, 10, 20, 40], gaps
        record = k.record("web", "app")
        assert record is not None and record.restarts == 4
        assert any("Back-off restarting failed container app in pod web" in e for e in runtime.events)
    finally:
        k.close()


def test_restart_policy_never_and_on_failure_are_followed(no_loop: None) -> None:
    for policy, code, restarted in [("Never", 1, False), ("OnFailure", 0, False), ("OnFailure", 1, True),
                                    ("Always", 0, True)]:
        clock = Clock()
        runtime = FakeRuntime(clock)
        runtime.run("app", clock.now)
        k = Kubelet(runtime, clock=clock)
        k.add("web", {"restartPolicy": policy, "containers": [{"name": "app"}]})
        try:
            k.tick(k.pods["web"])
            clock.now += 1
            runtime.exit("app", code)
            k.tick(k.pods["web"])
            assert bool(runtime.starts) == restarted, (policy, code)
        finally:
            k.close()


def test_a_failing_liveness_probe_kills_the_container_after_failure_threshold_tries(no_loop: None) -> None:
    clock = Clock()
    refused = (False, 'Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused')
    runtime = FakeRuntime(clock, probe_answers=[refused] * 3)
    runtime.run("app", clock.now)
    k = Kubelet(runtime, clock=clock)
    probe = {"httpGet": {"port": 8080}, "periodSeconds": 5, "failureThreshold": 3}
    k.add("web", {"terminationGracePeriodSeconds": 7, "containers": [{"name": "app", "livenessProbe": probe}]})
    try:
        k.tick(k.pods["web"])
        record = k.record("web", "app")
        assert record is not None and record.live is None  # not judged before its tries
        deadline = time.monotonic() + 20
        while not runtime.stops and time.monotonic() < deadline:
            clock.now += 1  # the worker tries every periodSeconds of this clock
            time.sleep(0.1)
        assert runtime.stops == [("app", 7)]  # killed with the Pod's grace, after 3 failures
        assert record.live is False and record.killed_by == kubelet.LIVENESS
        failed = [e for e in runtime.events if "Liveness probe failed: " in e]
        assert len(failed) == 3 and "connection refused" in failed[-1]
        assert "Normal Killing: Container app failed liveness probe, will be restarted" in runtime.events
        k.tick(k.pods["web"])  # its end is seen: started again at once (its first restart)
        assert runtime.starts and record.restarts == 1 and record.live is None  # the new run is judged afresh
    finally:
        k.close()


def test_liveness_waits_for_the_startup_probe_which_stops_once_it_succeeded(no_loop: None) -> None:
    """worker.go: liveness and readiness do not run before the startup probe succeeded; prober_manager.go: the
    container is `started` (Ready-able) only then."""
    clock = Clock()
    runtime = FakeRuntime(clock, probe_answers=[(False, "not yet"), (True, "")])
    runtime.run("app", clock.now)
    k = Kubelet(runtime, clock=clock)
    startup = {"exec": {"command": ["true"]}, "periodSeconds": 1, "failureThreshold": 5}
    k.add("web", {"containers": [{"name": "app", "startupProbe": startup,
                                  "livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1}}]})
    try:
        k.tick(k.pods["web"])
        record = k.record("web", "app")
        assert record is not None and not record.started and record.live is None
        deadline = time.monotonic() + 20
        while (not record.started or record.live is not True) and time.monotonic() < deadline:
            clock.now += 1
            time.sleep(0.1)
        # one failure of the startup probe (below its threshold: no kill), its success, then liveness's success
        assert record.started and record.live is True and not runtime.stops
        failed = [e for e in runtime.events if "probe failed" in e]
        assert failed == ["Warning Unhealthy: Startup probe failed: not yet"]
    finally:
        k.close()
