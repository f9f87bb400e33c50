"""A Pod's status as a kubelet reports it, from `podman container inspect` and the grader's kubelet
(kubelet.py: restarts, back-off, probes' verdict); and the status of a Pod podman could not start or the grader
evicted."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time
from datetime import datetime
from typing import Any

from graders import kubelet
from graders.backends.base import ContainerState, PodState
from graders.backends.podman import cli
from graders.backends.podman.classification import error_text, exit_race
from graders.backends.podman.kubelet import Kubelet, Record, Run
from graders.backends.podman.run import PodmanRun
from graders.backends.podman.storage_watch import Watcher
from graders.errors import InfraError

SIGKILLED = 137  # exit code of a process killed by SIGKILL (128 + 9): what podman sends when a grace ends
CLOCK_SLACK = 1.0  # seconds: podman's FinishedAt and this process's clock are the host's, read a moment apart


def pod_state(run: PodmanRun, pod: str, node: Kubelet, storage: Watcher) -> PodState | None:
    """The Pod as a cluster would show it now; None when it does not exist (never applied, or removed)."""
    if pod in run.failed:
        return run.failed[pod]
    if pod in run.evicted and pod in run.submitted and pod not in run.removed:
        return evicted_state(run.submitted[pod], run.evicted[pod])
    submitted = run.submitted.get(pod)
    if submitted is None:
        return None
    specs = run.containers(pod)
    names = [run.container(pod, c["name"]) for c in specs]
    result = inspect_containers(run, names, pod)
    if result.returncode != 0:
        if "no such container" in result.stderr:
            return None  # removed (by us, or behind our back)
        raise InfraError(f"podman could not read Pod {pod}: {error_text(result.stderr)}",
                         tried=[f"podman container inspect {' '.join(names)}"], fix="check `podman ps`")
    inspected = {c["Name"]: c for c in cli.parsed(result.stdout)}
    for c in specs:
        found = inspected.get(run.container(pod, c["name"])) or {}
        run.pids[(pod, c["name"])] = int((found.get("State") or {}).get("Pid") or 0)
        storage.watch(pod, c["name"], str(((found.get("GraphDriver") or {}).get("Data") or {}).get("UpperDir") or ""))
    node.observe(pod, {c["name"]: run_of(found) for c in specs
                       for found in [inspected.get(run.container(pod, c["name"]))] if found})
    policy = submitted["spec"].get("restartPolicy", "Always")
    containers = tuple(
        dataclasses.replace(container_state(c, found, node.record(pod, c["name"]), policy),
                            image_id=(found or {}).get("Image", ""))
        for c in specs for found in [inspected.get(run.container(pod, c["name"]))])
    return PodState(name=pod, phase=phase(containers, policy), labels=dict(submitted["metadata"].get("labels") or {}),
                    spec=submitted["spec"], containers=containers)


def inspect_containers(run: PodmanRun, names: list[str], pod: str) -> subprocess.CompletedProcess[str]:
    """`container inspect`, asked again when it lost a race with a process that was exiting: podman reads
    /proc/<pid>/cgroup of a container it still believes running, and that PID can be gone in between. The
    next look sees the container exited; only a failure that repeats is the machine's."""
    result = run.call("container", "inspect", *names, timeout=30, what=f"read Pod {pod}")
    for pause in (0.05, 0.1, 0.2):
        if result.returncode == 0 or not exit_race(result.stderr):
            break
        time.sleep(pause)
        result = run.call("container", "inspect", *names, timeout=30, what=f"read Pod {pod}")
    return result


def inspected(run: PodmanRun, pod: str) -> list[dict[str, Any]]:
    """`podman container inspect` of the Pod's containers as they are now ([] when they are gone)."""
    names = [run.container(pod, c["name"]) for c in run.containers(pod)]
    result = inspect_containers(run, names, pod) if names else None
    return cli.parsed(result.stdout) if result is not None and result.returncode == 0 else []


def killed_since(run: PodmanRun, pod: str, since: float) -> bool:
    """True when podman killed a container of the Pod (exit code 137, not the OOM killer) after `since`
    (Unix time): its stop signal had not ended it when the grace was over."""
    for container in inspected(run, pod):
        state = container.get("State") or {}
        if state.get("ExitCode") == SIGKILLED and not state.get("OOMKilled") \
                and unix_time(state.get("FinishedAt")) >= since - CLOCK_SLACK:
            return True
    return False


def failed_state(pod: dict[str, Any], error: str, missing_images: set[str], reason: str,
                 only: set[str] | None = None) -> PodState:
    """The status a kubelet would show for a Pod whose containers podman could not start: an image
    problem is the reason of the containers whose image is missing; other containers wait (as do all but
    `only`, when given: the containers the error is about)."""
    image_problem = reason in ("ErrImagePull", "InvalidImageName")

    def blamed(container: dict[str, Any]) -> bool:
        if only is not None:
            return container.get("name") in only
        return not image_problem or container.get("image", "") in missing_images or not missing_images

    containers = tuple(
        ContainerState(name=c.get("name", ""), image=c.get("image", ""), running=False, ready=False,
                       reason=reason if blamed(c) else "ContainerCreating", message=error if blamed(c) else "")
        for c in pod["spec"].get("containers", []))
    return PodState(name=pod["metadata"]["name"], phase="Pending",
                    labels=dict(pod["metadata"].get("labels") or {}), spec=pod["spec"], containers=containers)


def evicted_state(pod: dict[str, Any], message: str) -> PodState:
    """A Pod the grader evicted, as a kubelet shows one: phase Failed, every container stopped, reason Evicted."""
    containers = tuple(ContainerState(name=c.get("name", ""), image=c.get("image", ""), running=False, ready=False,
                                      reason="Evicted", message=message) for c in pod["spec"].get("containers", []))
    return PodState(name=pod["metadata"]["name"], phase="Failed", labels=dict(pod["metadata"].get("labels") or {}),
                    spec=pod["spec"], containers=containers)


def container_state(spec: dict[str, Any], inspected: dict[str, Any] | None, record: Record | None,
                    policy: str) -> ContainerState:
    """A container as a kubelet reports it: restarts, the back-off and the probes' verdict are the grader's
    kubelet's (kubelet.py), which starts containers again; podman plays every Pod with restartPolicy Never."""
    name, image = spec.get("name", ""), spec.get("image", "")
    if inspected is None:
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    state = inspected.get("State", {})
    status = state.get("Status", "")
    restarts = record.restarts if record is not None else int(inspected.get("RestartCount", 0) or 0)
    exit_code = state.get("ExitCode")
    live = record.live if record is not None else True
    if status == "running":
        return ContainerState(name, image, running=True, ready=record.started if record is not None else True,
                              restarts=restarts, exit_code=exit_code if restarts else None, live=live)
    if status in ("created", "configured", "initialized"):
        return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason="ContainerCreating")
    message = f"exited with code {exit_code}" + (f": {state['Error']}" if state.get("Error") else "")
    if record is not None and record.reason:  # held by the back-off (CrashLoopBackOff), or a start that failed
        return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason=record.reason,
                              message=record.message, exit_code=exit_code, live=live)
    if record is None and kubelet.restarts(policy, exit_code):  # not the grader's kubelet's: read as before
        return ContainerState(name, image, running=False, ready=False, restarts=max(restarts, 1),
                              reason="CrashLoopBackOff", message=message, exit_code=exit_code)
    reason = "OOMKilled" if state.get("OOMKilled") else "Completed" if exit_code == 0 else "Error"
    return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason=reason, message=message,
                          exit_code=exit_code, live=live)


def run_of(inspected: dict[str, Any]) -> Run:
    """One run of a container, from `podman container inspect`, for the grader's kubelet."""
    state = inspected.get("State") or {}
    began = str(state.get("StartedAt") or "")
    return Run(status=str(state.get("Status") or ""), pid=int(state.get("Pid") or 0),
               began="" if began.startswith("0001-") else began, began_at=max(0.0, unix_time(began)),
               finished_at=max(0.0, unix_time(state.get("FinishedAt"))),
               exit_code=state.get("ExitCode"), oom=bool(state.get("OOMKilled")))


def phase(containers: tuple[ContainerState, ...], policy: str) -> str:
    if all(c.running for c in containers):
        return "Running"
    if policy != "Always" and all(c.reason in ("Completed", "Error") for c in containers):
        return "Succeeded" if all(c.reason == "Completed" for c in containers) else "Failed"
    if any(c.running or c.restarts for c in containers):
        return "Running"
    return "Pending"


def unix_time(stamp: Any) -> float:
    """podman's RFC 3339 time (`2026-12-03T07:33:22.808120146Z`, nanoseconds) as Unix time; 0 when it is
    missing or unreadable. Parsed here: Python 3.10's fromisoformat takes neither `Z` nor 9 digits."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", str(stamp or ""))
    if not found:
        return 0.0
    whole, fraction, zone = found.groups()
    when = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return when.timestamp() + float(f"0.{fraction or 0}")
