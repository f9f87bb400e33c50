"""A Pod's probes judged as a cluster judges them, on every backend, by one rule (graders/kubelet.py has the
kubelet's numbers and their sources):

- A probe is a verdict once the kubelet has had its tries (initialDelaySeconds, then failureThreshold tries
  periodSeconds apart, each up to timeoutSeconds) and it still fails for a reason that neither time nor a
  restart changes (an HTTP status, a refused connection, a port that is no port): not at the readiness
  deadline, which is there for image pulls. Other failures (an exec probe's exit code, a timeout) are waited for.
- Readiness: where a kubelet runs the probes (a cluster: capability readiness-probes), its verdict is the ready
  flag and its last "Readiness probe failed" event; elsewhere (podman) the grader makes each probe's request
  itself, from its own side (HTTP and TCP from inside the Pod's network; exec in the container, as a kubelet's).
- Liveness and startup: the backend's kubelet runs them and kills a container that fails them (on podman the
  grader's own kubelet, graders/backends/podman/kubelet.py). Its verdict is the container's `live` where the
  backend reports it, else the kubelet's events ("Container NAME failed liveness probe") and the restarts:
  a container killed for a reason a restart does not change is a verdict at once; one that passes the kubelet's
  first try without a failure is alive.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Mapping

from graders import kubelet
from graders.backends.base import ContainerState, PodState
from graders.capabilities import READINESS_PROBES
from graders.checks.diagnostics import describe, details
from graders.errors import CheckFailed, InfraError
from graders.kubelet import LIVENESS, STARTUP, Probe
from graders.run import LabRun
from graders.waiting import NotYet

# Seconds between the kubelet's verdict on a node and the grader seeing it through the API server (its probe
# workers start, the status is patched): added where a kubelet of a cluster judges.
PROBE_MARGIN = 10.0
READINESS_HINT = ("a readinessProbe that never succeeds keeps the container out of Ready: check its port, path and "
                  "command")


def container_spec(spec: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for place in ("containers", "initContainers"):
        for container in spec.get(place) or []:
            if isinstance(container, Mapping) and container.get("name") == name:
                return container
    return {}


def running_since(run: LabRun, pod: str, container: ContainerState, what: str = "running") -> float:
    """When the grader first saw this run of the container running (or, what="ready-able", started: its
    readiness probe then begins); its restarts tell runs apart."""
    return run.state.pod(pod).first_seen(what, container.name, container.restarts)


def kubelet_judges(run: LabRun) -> bool:
    """A kubelet of a cluster runs the probes (its verdicts come through the API), not the grader."""
    return READINESS_PROBES in run.capabilities


def _events(run: LabRun, pod: str) -> list[str]:
    try:
        return run.sandbox.events(pod)
    except InfraError:
        return []


# -- liveness and startup ---------------------------------------------------------------------------------
def judge_liveness(run: LabRun, pod: str, state: PodState, crash_exits: int) -> None:
    """Every running container's liveness and startup probes have their verdict: NotYet while the kubelet has
    not given it, CheckFailed when it kills the container for a reason a restart does not change, or has
    ended it crash_exits times (the waits' crash-loop rule)."""
    events: list[str] | None = None
    for container in state.containers:
        found = kubelet.probes_of(container_spec(state.spec, container.name), STARTUP, LIVENESS)
        if not found or container.live is True:
            continue
        events = _events(run, pod) if events is None else events
        killed = kubelet.killed_by(events, container.name)
        if killed or container.live is False:
            kind = STARTUP if killed == "startup" else LIVENESS if killed else _failing_kind(events, found)
            probe = next((p for p in found if p.kind == kind), found[-1])
            reason = kubelet.last_failure(events, probe.word)
            exits = container.restarts + (0 if container.running else 1)
            if killed and (kubelet.permanent(reason) or exits >= crash_exits):
                raise _killed(run, pod, state, container, probe, reason)
            raise NotYet(f"container {container.name}: its {probe.kind} failed; the kubelet kills it and starts it "
                         f"again ({probe.word} probe failed: {reason})")
        if kubelet_judges(run):
            _first_tries_over(run, pod, container, found, events)
        else:  # the grader's kubelet says when it has judged
            raise NotYet(f"container {container.name}: running, its {' and '.join(p.kind for p in found)} "
                         f"not judged yet")


def _failing_kind(events: list[str], found: list[Probe]) -> str:
    return next((p.kind for p in reversed(found) if kubelet.last_failure(events, p.word)), found[-1].kind)


def _first_tries_over(run: LabRun, pod: str, container: ContainerState, found: list[Probe],
                      events: list[str]) -> None:
    """A cluster's kubelet says nothing when a liveness or startup probe succeeds: such a container is alive once
    the kubelet's first try of each probe is over without a failure, or, after a failure, once its tries are over
    and it did not kill the container."""
    ran = time.monotonic() - running_since(run, pod, container)
    needed = sum(kubelet.tries(p) if kubelet.last_failure(events, p.word) else kubelet.first_try(p) for p in found)
    if ran < needed + PROBE_MARGIN:
        raise NotYet(f"container {container.name}: running; the kubelet's first tries of its "
                     f"{' and '.join(p.kind for p in found)} take {needed + PROBE_MARGIN:g} s")


def _killed(run: LabRun, pod: str, state: PodState, container: ContainerState, probe: Probe,
            reason: str) -> CheckFailed:
    spec = container_spec(state.spec, container.name)
    restart = kubelet.restarts(str(state.spec.get("restartPolicy") or "Always"), None, killed_by_probe=True)
    return CheckFailed(
        expected=f"container {container.name} of Pod {pod} to keep running, its {probe.kind} succeeding",
        observed=(f"container {container.name}: the kubelet kills it"
                  + (" and starts it again, again and again" if restart else "") +
                  f": its {probe.kind} failed {probe.failure_threshold} times in a row ({probe.word} probe failed: "
                  f"{reason or 'no answer'})"),  # no restart count: one mistake reads the same every time
        hint=_probe_hint(spec, probe, "the kubelet restarts a container whose " + probe.kind + " fails"),
        details=details(run, pod, [container.name]))


def _probe_hint(spec: Mapping[str, Any], probe: Probe, why: str) -> str:
    """What to check of a failing probe: its port against the container's ports, its path, its command."""
    action = probe.spec.get(probe.handler) if probe.handler else None
    declared = [p.get("containerPort") for p in spec.get("ports") or [] if isinstance(p, Mapping)]
    if isinstance(action, Mapping) and "port" in action:
        port = kubelet.probe_port(spec, action.get("port"))
        if isinstance(port, int) and declared and port not in declared:
            return (f"{why}: it asks port {port}, while the container serves on "
                    f"{', '.join(map(str, declared))}: aim it at the port the server listens on")
    return f"{why}: aim it at what the container really serves (its port and path), or give a command that succeeds"


# -- readiness ------------------------------------------------------------------------------------------------
def unready(run: LabRun, pod: str, state: PodState) -> dict[str, str]:
    """Container -> why it is not Ready yet, in a few words (every container runs). CheckFailed once a
    readinessProbe is a verdict."""
    if kubelet_judges(run):
        return _kubelet_readiness(run, pod, state)
    why = {c.name: "not started: its startupProbe has not succeeded yet" for c in state.containers if not c.ready}
    if why:
        return why
    for container in state.containers:
        running_since(run, pod, container, "ready-able")  # its readinessProbe's tries begin
    failing = grader_readiness(run, pod, state)
    for name, reason in failing.items():
        probe = Probe.of(kubelet.READINESS, container_spec(state.spec, name).get(kubelet.READINESS) or {})
        found = state.container(name)
        if found is not None and kubelet.permanent(reason) \
                and time.monotonic() - running_since(run, pod, found, "ready-able") >= kubelet.tries(probe):
            raise _never_ready(run, pod, state, name, f"readinessProbe: {reason}", probe)
    return {name: f"readinessProbe: {reason}" for name, reason in failing.items()}


def _kubelet_readiness(run: LabRun, pod: str, state: PodState) -> dict[str, str]:
    events = _events(run, pod)
    why: dict[str, str] = {}
    for container in state.containers:
        if container.ready:
            continue
        spec = container_spec(state.spec, container.name).get(kubelet.READINESS)
        reason = kubelet.last_failure(events, "Readiness")
        said = f"readinessProbe; the kubelet's last event: Readiness probe failed: {reason}" if reason else \
            "readinessProbe: no success yet"
        why[container.name] = said
        if isinstance(spec, Mapping) and reason and kubelet.permanent(reason):
            probe = Probe.of(kubelet.READINESS, spec)
            window = kubelet.tries(probe) + PROBE_MARGIN
            if time.monotonic() - running_since(run, pod, container) >= window:
                raise _never_ready(run, pod, state, container.name, said, probe, window=window)
    return why


def _never_ready(run: LabRun, pod: str, state: PodState, name: str, said: str, probe: Probe,
                 window: float | None = None) -> CheckFailed:
    window = kubelet.tries(probe) if window is None else window
    return CheckFailed(
        expected=f"Pod {pod} Running with all containers Ready",
        observed=(f"{describe(not_ready(state, {name: said}))}: after "
                  f"{window:g} s (initialDelaySeconds, then failureThreshold tries periodSeconds apart) it still "
                  f"fails, for a reason that waiting does not change, so the kubelet never marks it Ready"),
        hint=_probe_hint(container_spec(state.spec, name), probe, READINESS_HINT.split(":")[0]),
        details=details(run, pod, [name]))


def not_ready(state: PodState, reasons: Mapping[str, str]) -> PodState:
    """The Pod as a kubelet would report it where the grader runs the readiness probes (podman reports every
    running container ready): these containers not Ready, for these reasons (`kubectl get pod` READY 1/2)."""
    return dataclasses.replace(state, containers=tuple(
        dataclasses.replace(c, ready=False, message=reasons[c.name]) if c.name in reasons else c
        for c in state.containers))


def grader_readiness(run: LabRun, pod: str, state: PodState) -> dict[str, str]:
    """Where the backend ignores readinessProbe (podman), run each probe once as a kubelet would: exec in the
    container, httpGet and tcpSocket from the grader's side. Container -> why it failed."""
    failing: dict[str, str] = {}
    timeout = run.timeouts.exec
    for container in state.containers:
        spec = container_spec(state.spec, container.name)
        probe = spec.get(kubelet.READINESS)
        if not isinstance(probe, Mapping):
            continue
        name = container.name
        if "exec" in probe:
            failing.update(_exec_probe(run, pod, name, probe))
            continue
        if "httpGet" not in probe and "tcpSocket" not in probe:
            continue
        get = probe.get("httpGet") or probe.get("tcpSocket") or {}
        port = kubelet.probe_port(spec, get.get("port"))
        if isinstance(port, str):
            failing[name] = port
        elif "httpGet" in probe:
            path = str(get.get("path") or "/")
            response = run.sandbox.http_get(pod, port, path, timeout=timeout)
            if response.status is None or not 200 <= response.status < 400:
                failing[name] = f"httpGet :{port}{path}: {response.error or f'HTTP {response.status}'}"
        elif not run.sandbox.tcp_open(pod, port, timeout=timeout):
            failing[name] = f"tcpSocket :{port}: nothing accepts connections"
    return failing


def _exec_probe(run: LabRun, pod: str, name: str, probe: Mapping[str, Any]) -> dict[str, str]:
    """An exec probe, given its own timeoutSeconds (1 when unset, as the API server defaults it): a command
    still running then is a failed probe, as a kubelet's prober counts it (k8s.io/kubernetes
    pkg/probe/exec/exec.go: a TimeoutError is probe.Failure with the ExecProbeTimeout gate, on since 1.20)."""
    command = [str(arg) for arg in (probe["exec"] or {}).get("command") or []]
    if not command:
        return {name: "exec has no command"}
    seconds = Probe.of(kubelet.READINESS, probe).timeout
    result = run.sandbox.exec(pod, name, command, timeout=seconds)
    if result.timed_out:
        return {name: f"exec did not finish within its timeoutSeconds ({seconds} s)"}
    if result.exit_code != 0:
        return {name: f"exec exited with code {result.exit_code}"}
    return {}
