"""The kubelet's part that `podman kube play` does not play: restarting containers with the kubelet's back-off,
and running their liveness and startup probes (graders/kubelet.py has the rules and their sources).

podman restarts an exiting container at once, for ever: 60 containers exiting together kept the machine busy
with conmon, runc and `podman container cleanup` processes (outside any Pod's limits) until the grader's own
podman calls timed out. So every Pod is played with restartPolicy Never (play.py) and this kubelet
starts containers again as the Pod's own policy says, each start held by the kubelet's back-off (at once, then
10 s, 20 s, ... 300 s, afresh after a run of 10 minutes). kube play ignores liveness and startup probes: a
worker per probe runs it from the grader's side (the caller's `probe`: HTTP and TCP from inside the Pod's
network, exec in the container) on the kubelet's schedule, kills the container after failureThreshold
failures in a row (with the probe's grace), and the restart follows the policy. Readiness probes stay the
checks' (graders/checks/pods.py): a container here is Ready-able once started (its startup probe succeeded).

It looks at the containers cheaply: each container's first process is watched on the host (/proc/PID, with
its start time: a PID can be reused), and podman is asked only when one has ended, or a start is due.
Events are written in the kubelet's words (graders/kubelet.py), so that the checks read the same evidence here
as on a cluster.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from graders import kubelet
from graders.backends.podman.procs import started as process_started
from graders.kubelet import LIVENESS, STARTUP, BackOff, Probe

TICK = 0.5  # seconds between two looks at the containers (a kubelet's PLEG relists every second)


@dataclass(frozen=True)
class Run:
    """One run of a container, as podman reports it."""

    status: str  # running, exited, stopped, created, ...
    pid: int
    began: str  # podman's StartedAt: names the run
    began_at: float  # the same, as Unix time (0 when unknown)
    finished_at: float  # Unix time it ended (0 while running)
    exit_code: int | None
    oom: bool = False

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def ended(self) -> bool:
        return self.status in ("exited", "stopped") and bool(self.began)


class Runtime(Protocol):
    def inspect(self, pod: str) -> dict[str, Run] | None: ...
    def start(self, pod: str, container: str) -> str: ...  # '' once started, else podman's error
    def stop(self, pod: str, container: str, grace: int) -> None: ...
    def probe(self, pod: str, container: str, probe: Probe) -> tuple[bool | None, str]: ...  # None: no result
    def note(self, pod: str, text: str) -> None: ...


@dataclass
class Record:
    """What the kubelet knows of one container of a Pod."""

    name: str
    probes: list[Probe]  # its liveness and startup probes
    run: Run | None = None  # as last seen
    pid_start: str = ""  # its first process's start time (a PID can be reused)
    current: str = ""  # the run its probes are about
    restarts: int = 0
    handled: str = ""  # the run whose end was handled
    restart_at: float | None = None  # when it starts again
    reason: str = ""  # while held: CrashLoopBackOff
    message: str = ""
    killed_by: str = ""  # the probe kind that failed the current run
    started: bool = True  # its startup probe succeeded in the current run (true without one)
    live: bool | None = True  # its liveness and startup probes: succeeded, failed (killed), or not judged yet

    def new_run(self, run: Run) -> None:
        self.current, self.killed_by = run.began, ""
        self.started = not any(p.kind == STARTUP for p in self.probes)
        self.live = None if self.probes else True


@dataclass
class PodRecord:
    name: str
    spec: Mapping[str, Any]
    containers: dict[str, Record]
    gone: bool = False  # deleted or evicted: nothing is started or probed any more
    seen: bool = False  # podman was asked once
    workers: list[threading.Thread] = field(default_factory=list)

    @property
    def policy(self) -> str:
        return str(self.spec.get("restartPolicy") or "Always")


class Kubelet:
    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.time,
                 backoff: BackOff | None = None) -> None:
        self.runtime, self.clock = runtime, clock
        self.backoff = backoff or BackOff()
        self.pods: dict[str, PodRecord] = {}
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the sandbox tells it --------------------------------------------------------------------
    def add(self, pod: str, spec: Mapping[str, Any]) -> None:
        """A Pod that runs: watch its containers, and start a worker for each liveness or startup probe."""
        containers = {str(c.get("name")): Record(str(c.get("name")), kubelet.probes_of(c, STARTUP, LIVENESS))
                      for c in spec.get("containers") or [] if isinstance(c, dict)}
        record = PodRecord(pod, spec, containers)
        with self.lock:
            self.pods[pod] = record
        for container in containers.values():
            for probe in container.probes:
                worker = threading.Thread(target=self._worker, args=(record, container, probe), daemon=True,
                                          name=f"k8s101-probe-{pod}-{container.name}")
                record.workers.append(worker)
                worker.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="k8s101-kubelet", daemon=True)
            self._thread.start()

    def forget(self, pod: str) -> None:
        """The Pod is being deleted or evicted: start and probe nothing of it any more (taken under the lock:
        a start in progress ends first, so that the caller's stop comes after it)."""
        with self.lock:
            record = self.pods.get(pod)
            if record is not None:
                record.gone = True

    def observe(self, pod: str, runs: Mapping[str, Run]) -> None:
        """What podman said of the Pod's containers (the sandbox's own reads feed it too)."""
        with self.lock:
            record = self.pods.get(pod)
            if record is None or record.gone:
                return
            record.seen = True
            for container in record.containers.values():
                run = runs.get(container.name)
                if run is not None:
                    self._observe(record, container, run)

    def record(self, pod: str, container: str) -> Record | None:
        with self.lock:
            found = self.pods.get(pod)
            return found.containers.get(container) if found else None

    def close(self) -> None:
        self._stop.set()
        with self.lock:
            for record in self.pods.values():
                record.gone = True
        for thread in [self._thread, *(w for r in self.pods.values() for w in r.workers)]:
            if thread is not None:
                thread.join(timeout=2)

    # -- restarts ---------------------------------------------------------------------------------------
    def _observe(self, pod: PodRecord, container: Record, run: Run) -> None:
        now = self.clock()
        container.run = run
        if run.running:
            if run.began != container.current:
                container.new_run(run)
                container.pid_start = process_started(run.pid)
            container.reason = container.message = ""
            container.restart_at = None
            return
        if not run.ended or run.began == container.handled:
            return
        container.handled = run.began  # the end of this run, seen once
        if container.current != run.began:  # it ended before it was ever seen running
            container.new_run(run)
        if not kubelet.restarts(pod.policy, run.exit_code, killed_by_probe=bool(container.killed_by)):
            container.restart_at = None
            return
        key = (pod.name, container.name)
        held = self.backoff.held_for(key, run.finished_at or now, now)
        container.restart_at = now + held
        if held > 0:
            container.reason = "CrashLoopBackOff"
            container.message = (f"back-off {self.backoff.hold(key):g}s restarting failed container={container.name} "
                                 f"pod={pod.name}")
            self.runtime.note(pod.name, f"Warning BackOff: Back-off restarting failed container {container.name} "
                                        f"in pod {pod.name}")

    def _loop(self) -> None:
        while not self._stop.wait(TICK):
            for pod in list(self.pods.values()):
                try:
                    self.tick(pod)
                except Exception as error:  # noqa: BLE001 - a kubelet that dies leaves crashed containers stopped
                    self.runtime.note(pod.name, f"the grader's kubelet could not look at the Pod: {error!r}")

    def tick(self, pod: PodRecord) -> None:
        """One look at a Pod: podman is asked when a container's process ended or a start is due."""
        if pod.gone:
            return
        if not pod.seen or self._due(pod) or any(self._ended(c) for c in pod.containers.values()):
            self._look(pod)
        for container in self._due(pod):  # an end just seen may be due at once (the first restart is never held)
            self._restart(pod, container)

    def _due(self, pod: PodRecord) -> list[Record]:
        now = self.clock()
        return [c for c in pod.containers.values() if c.restart_at is not None and now >= c.restart_at]

    def _look(self, pod: PodRecord) -> None:
        runs = self.runtime.inspect(pod.name)
        if runs is not None:
            self.observe(pod.name, runs)

    def _ended(self, container: Record) -> bool:
        """The container's first process is gone, while podman was last seen calling it running."""
        run = container.run
        return run is None or (run.running and (run.pid <= 0 or process_started(run.pid) != container.pid_start))

    def _restart(self, pod: PodRecord, container: Record) -> None:
        with self.lock:
            if pod.gone or container.restart_at is None or self.clock() < container.restart_at:
                return
            run = container.run
            now = self.clock()
            self.backoff.started((pod.name, container.name), (run.finished_at if run else 0) or now, now)
            container.restart_at = None
            error = self.runtime.start(pod.name, container.name)
            if error:  # as a kubelet's failed start: said, and tried again after the back-off
                container.reason, container.message = "RunContainerError", error
                container.restart_at = self.clock() + self.backoff.hold((pod.name, container.name))
                self.runtime.note(pod.name, f"Warning Failed: Error: {error}")
                return
            container.restarts += 1
            self.runtime.note(pod.name, f"Normal Started: Started container {container.name}")
        self._look(pod)

    # -- probes -----------------------------------------------------------------------------------------
    def _worker(self, pod: PodRecord, container: Record, probe: Probe) -> None:
        """The kubelet's probe worker for one liveness or startup probe of a container."""
        run, due, failures, successes, held = "", 0.0, 0, 0, False
        while not self._stop.is_set() and not pod.gone:
            with self.lock:
                current, seen = container.current, container.run
                waiting = (seen is None or not seen.running or seen.began != current
                           or (probe.kind == LIVENESS and not container.started)
                           or (probe.kind == STARTUP and container.started))
                if current != run:  # a new run: counted afresh, first try after initialDelaySeconds
                    run, failures, successes, held = current, 0, 0, False
                    began = seen.began_at if seen is not None and seen.began_at else self.clock()
                    due = began + probe.initial_delay
            now = self.clock()
            if waiting or held or now < due:
                self._stop.wait(min(0.2, max(0.05, due - now)))
                continue
            ok, reason = self.runtime.probe(pod.name, container.name, probe)
            due = self.clock() + probe.period
            kill = False
            with self.lock:
                if pod.gone or container.current != run or ok is None:
                    continue  # another run meanwhile, or no result (the grader could not probe): thrown away
                if ok:
                    failures, successes = 0, successes + 1
                    if successes >= probe.success_threshold:
                        self._succeeded(container, probe)
                    continue
                failures, successes = failures + 1, 0
                self.runtime.note(pod.name, kubelet.failed_event(probe, reason))
                if failures >= probe.failure_threshold:
                    held = kill = True
                    container.killed_by, container.live = probe.kind, False
                    self.runtime.note(pod.name, kubelet.killing_event(container.name, probe, pod.policy))
            if kill:
                self.runtime.stop(pod.name, container.name, kubelet.kill_grace(pod.spec, probe))

    def _succeeded(self, container: Record, probe: Probe) -> None:
        if probe.kind == STARTUP:
            container.started = True
        liveness = any(p.kind == LIVENESS for p in container.probes)
        if container.started and (probe.kind == LIVENESS or not liveness):
            container.live = True

