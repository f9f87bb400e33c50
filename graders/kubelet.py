"""The kubelet's rules for probes and restarts, as numbers and pure functions: the graders follow them wherever
they play a kubelet's part (the podman backend restarts and probes containers, backends/podman/kubelet.py) or judge
when a kubelet would have given its verdict (graders/checks/pods.py). No clock, no backend here.

Read from kubernetes/kubernetes (facts, not code):
- pkg/apis/core/v1/defaults.go, SetDefaults_Probe: timeoutSeconds 1, periodSeconds 10, successThreshold 1,
  failureThreshold 3 (initialDelaySeconds stays 0); SetDefaults_PodSpec: terminationGracePeriodSeconds 30.
- pkg/kubelet/prober/worker.go: one worker per container and probe; no probe before initialDelaySeconds of the
  container's run, then one every periodSeconds, each within timeoutSeconds; a result counts only once it came
  failureThreshold (or successThreshold) times in a row; readiness starts as Failure, liveness as Success; a
  liveness or startup probe that failed is held until the container is a new one; liveness and readiness wait
  for the startup probe to succeed, and the startup probe stops once it did.
- pkg/kubelet/prober/prober_manager.go, UpdatePodStatus: `started` is the startup probe's success (true at once
  without one); a container is Ready only once started and its readiness probe succeeded (at once without one).
- pkg/kubelet/prober/prober.go: a failure is the event "<Kind> probe failed: <output>" (reason Unhealthy).
- pkg/kubelet/kuberuntime/kuberuntime_manager.go, computePodActions: a running container whose liveness or
  startup probe failed is killed ("Container NAME failed liveness probe, will be restarted"), and started
  again unless restartPolicy is Never; doBackOff: a start waits out the back-off counted from the end of the
  container's last run ("Back-off restarting failed container NAME in pod POD").
- pkg/kubelet/kuberuntime/kuberuntime_container.go, setTerminationGracePeriod and killContainer: a container
  killed for a failed liveness or startup probe gets that probe's terminationGracePeriodSeconds when set, else
  the Pod's; never less than 2 s (minimumGracePeriodInSeconds).
- pkg/kubelet/kubelet.go: backOffPeriod 10 s, MaxContainerBackOff 300 s; client-go util/flowcontrol/backoff.go:
  the first start is never held, each later one doubles the hold up to the maximum, and a container that ran
  longer than twice the maximum (10 minutes) before it ended starts afresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

LIVENESS, READINESS, STARTUP = "livenessProbe", "readinessProbe", "startupProbe"
WORDS = {LIVENESS: "Liveness", READINESS: "Readiness", STARTUP: "Startup"}  # as the kubelet's events name them
DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
            "failureThreshold": 3}
DEFAULT_GRACE = 30  # the Pod's terminationGracePeriodSeconds when it sets none
MINIMUM_GRACE = 2  # seconds a killed container always gets
BACKOFF_START = 10.0  # seconds the kubelet holds a container's second start, doubled for each later one
BACKOFF_MAX = 300.0
BACKOFF_RESET = 2 * BACKOFF_MAX  # a run longer than this ends the back-off: the next start is at once


def _count(spec: Mapping[str, Any], key: str) -> int:
    value = spec.get(key)
    # 0 is what the API server defaults (an unset field); validation refuses negatives before anything runs
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULTS[key]


@dataclass(frozen=True)
class Probe:
    """A container's probe as the kubelet runs it, its fields defaulted as the API server stores them."""

    kind: str  # livenessProbe, readinessProbe or startupProbe
    spec: Mapping[str, Any] = field(hash=False, compare=False)  # the handler: exec, httpGet, tcpSocket, grpc
    initial_delay: int = 0
    period: int = 10
    timeout: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3
    grace: int | None = None  # the probe's own terminationGracePeriodSeconds

    @classmethod
    def of(cls, kind: str, spec: Mapping[str, Any]) -> "Probe":
        delay = spec.get("initialDelaySeconds")
        grace = spec.get("terminationGracePeriodSeconds")
        return cls(kind=kind, spec=spec,
                   initial_delay=delay if isinstance(delay, int) and not isinstance(delay, bool) and delay > 0 else 0,
                   period=_count(spec, "periodSeconds"), timeout=_count(spec, "timeoutSeconds"),
                   success_threshold=_count(spec, "successThreshold"),
                   failure_threshold=_count(spec, "failureThreshold"),
                   grace=grace if isinstance(grace, int) and not isinstance(grace, bool) and grace > 0 else None)

    @property
    def word(self) -> str:
        return WORDS[self.kind]

    @property
    def handler(self) -> str:
        return next((kind for kind in ("exec", "httpGet", "tcpSocket", "grpc") if kind in self.spec), "")


def probes_of(container: Mapping[str, Any], *kinds: str) -> list[Probe]:
    """The container's probes of these kinds (all three when none is named), defaulted."""
    return [Probe.of(kind, container[kind]) for kind in (kinds or (STARTUP, LIVENESS, READINESS))
            if isinstance(container.get(kind), Mapping)]


def tries(probe: Probe) -> float:
    """Seconds after a container starts by which the kubelet has surely tried a probe failureThreshold times:
    its worker's first tick may come a whole period after the start, each try takes up to timeoutSeconds."""
    return probe.initial_delay + probe.failure_threshold * probe.period + probe.timeout


def first_try(probe: Probe) -> float:
    """Seconds after a container starts by which the kubelet has surely tried a probe once."""
    return probe.initial_delay + probe.period + probe.timeout


def kill_grace(pod_spec: Mapping[str, Any], probe: Probe | None = None) -> int:
    """The grace a container killed by the kubelet gets: a failed liveness or startup probe's own
    terminationGracePeriodSeconds when set, else the Pod's (30 by default), at least MINIMUM_GRACE."""
    own = pod_spec.get("terminationGracePeriodSeconds")
    grace = own if isinstance(own, int) and not isinstance(own, bool) and own >= 0 else DEFAULT_GRACE
    if probe is not None and probe.kind in (LIVENESS, STARTUP) and probe.grace is not None:
        grace = probe.grace
    return max(MINIMUM_GRACE, grace)


def restarts(policy: str, exit_code: int | None, killed_by_probe: bool = False) -> bool:
    """Whether the kubelet starts a container again after its run ended: always under Always; under
    OnFailure after a failure, and after a kill for a failed probe whatever the exit code; never under Never."""
    if policy == "Never":
        return False
    return policy != "OnFailure" or killed_by_probe or exit_code != 0


class BackOff:
    """The kubelet's restart back-off of each container (flowcontrol.Backoff with the kubelet's numbers). Times
    are the caller's clock, in seconds; `finished` is when the container's last run ended."""

    def __init__(self, start: float = BACKOFF_START, maximum: float = BACKOFF_MAX) -> None:
        self.start, self.maximum = start, maximum
        self.entries: dict[Any, tuple[float, float]] = {}  # key -> (hold, when it was last moved on)

    def _expired(self, key: Any, finished: float) -> bool:
        hold, moved = self.entries[key]
        return finished - moved > 2 * self.maximum

    def held_for(self, key: Any, finished: float, now: float) -> float:
        """Seconds a start must still wait (0: start now): IsInBackOffSince."""
        if key not in self.entries or self._expired(key, finished):
            return 0.0
        hold = self.entries[key][0]
        return max(0.0, finished + hold - now)

    def hold(self, key: Any) -> float:
        """The current hold, as the kubelet's message says it ("back-off 20s")."""
        return self.entries.get(key, (0.0, 0.0))[0]

    def started(self, key: Any, finished: float, now: float) -> None:
        """A start went ahead: the next one is held twice as long (Next)."""
        if key not in self.entries or self._expired(key, finished):
            self.entries[key] = (self.start, now)
        else:
            self.entries[key] = (min(self.entries[key][0] * 2, self.maximum), now)


# -- what a failure says ----------------------------------------------------------------------------
# A probe failure that neither more time nor a restart changes: the server answered with a failing status
# (404, 403, 500...), nothing accepts connections on the port while the container runs, or the port is no
# port at all. In the kubelet's words (its event, pkg/probe/http/http.go, pkg/probe/tcp/tcp.go) and the grader's
# (graders/backends/podman/netns.py). An exec probe's exit code or a timeout may change (a file not written yet, a
# server still starting), and is waited for until the readiness deadline.
PERMANENT = re.compile(r"statuscode: \d{3}|\bHTTP [1-5]\d\d\b|connection refused|nothing accepts connections|"
                       r"invalid port|not a port number|names none of the container's ports", re.I)


def permanent(reason: str) -> bool:
    return bool(PERMANENT.search(reason))


def failed_event(probe: Probe, reason: str) -> str:
    """The kubelet's event for one failed try of a probe."""
    return f"Warning Unhealthy: {probe.word} probe failed: {reason}"


def killing_event(container: str, probe: Probe, policy: str) -> str:
    """The kubelet's event when it kills a container for a failed liveness or startup probe."""
    kind = probe.word.lower()
    return (f"Normal Killing: Container {container} failed {kind} probe"
            + (", will be restarted" if restarts(policy, None, killed_by_probe=True) else ""))


def killed_by(events: list[str], container: str) -> str | None:
    """The kind of probe (liveness, startup) that the events say the kubelet killed the container for."""
    found = None
    for line in events:
        match = re.search(rf"Container {re.escape(container)} failed (liveness|startup) probe", line)
        if match:
            found = match.group(1)
    return found


def last_failure(events: list[str], word: str) -> str:
    """The reason of the last failed try of a kind of probe ('Liveness', 'Readiness', 'Startup'), '' if none."""
    reasons = [line.split(f"{word} probe failed: ", 1)[1] for line in events if f"{word} probe failed: " in line]
    return reasons[-1] if reasons else ""


def probe_port(container: Mapping[str, Any], port: Any) -> int | str:
    """A probe's port: a number, or the name of one of the container's ports; a text saying why the probe
    fails when it names none, or a number outside 1-65535 (pkg/probe/util.go ResolveContainerPort: the kubelet
    fails such a probe with an error)."""
    named = {p.get("name"): p.get("containerPort") for p in container.get("ports") or [] if isinstance(p, dict)}
    number = named.get(port, port)
    if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 65535:
        return number
    if isinstance(port, str) and port not in named:
        return f"the probe's port {port!r} names none of the container's ports"
    return f"the probe's port {number!r} is not a port number (1-65535)"
