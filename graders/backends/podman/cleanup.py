"""Removing pods, and what killed runs left: at once when their owner's process is provably gone, else by age;
never what a run that still runs uses (owners.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from graders.backends.base import MANAGED_BY, MANAGED_BY_LABEL, is_stale
from graders.backends.podman import cli
from graders.backends.podman.host import WORKDIR_PREFIX, remove_workdir
from graders.backends.podman.owners import owner_alive, owner_file, owner_gone
from graders.errors import InfraError


def remove_pods(podman: str, names: list[str], timeout: float = 60, attempts: int = 3,
                stopped: bool = False, stuck: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Stop at once and remove pods with their containers; missing ones are fine. `pod rm --force` can
    return while a crash-looping container restarts and keeps its pod: such pods are removed again.
    Returns the pods still there after the last attempt.
    Stopped first: podman 4.3's `pod rm --force -t 0` of a running pod takes 3.4 s, `pod stop -t 0` and then
    `pod rm` 0.3 s (measured with busybox `sleep`; two pods: 3.7 s against 0.5 s). `stopped`: the caller
    has just stopped them. `stuck`: pods with a container stuck in "stopping", which `pod stop` waits for
    forever and only `pod rm --force` removes (see stuck_stopping)."""
    for attempt in range(attempts):
        if not names:
            break
        stoppable = [name for name in names if name not in stuck]
        if stoppable and (attempt or not stopped):
            try:
                cli.call(podman, "pod", "stop", "--ignore", "-t", "0", *stoppable, timeout=timeout, what="stop pods")
            except InfraError:  # a container stuck in "stopping" (stuck_stopping): `pod rm --force` removes it,
                pass  # and a podman that answers nothing at all times out there too
        cli.call(podman, "pod", "rm", "--force", "--ignore", "-t", "0", *names, timeout=timeout, what="remove pods")
        names = [name for name in names
                 if cli.call(podman, "pod", "exists", name, timeout=30, what="look up a pod").returncode == 0]
    return names


def stuck_stopping(pod: dict[str, Any]) -> bool:
    """A pod (as `pod ps --format json` lists it) with a container in podman's "stopping" state. When the
    `podman stop` that set it and the container's conmon are both killed (a grading run and its podman
    children killed at once, a machine shut down mid-run), podman 4.3 keeps the state for good: `pod stop`
    then waits without end (seen: 100 s, spinning), `pod rm --force -t 0` kills and removes it in 3.5 s.
    Fixed upstream after 4.3: podman-container-tools/podman pull request 23089, "Ensure that containers do
    not get stuck in stopping" (issues 19629 and 11274)."""
    return any(container.get("Status") == "stopping" for container in pod.get("Containers") or [])


def reap_stale(podman: str, older_than: float) -> list[str]:
    """Remove what killed runs left: at once when their process is provably gone, else by age."""
    now = time.time()

    def stale(labels: dict[str, str] | None) -> bool:  # a run whose process still runs is never stale
        return not owner_alive(labels or {}) and (is_stale(labels, older_than, now) or (
            (labels or {}).get(MANAGED_BY_LABEL) == MANAGED_BY and owner_gone(labels or {})))

    listed = cli.call(podman, "pod", "ps", "--filter", f"label={MANAGED_BY_LABEL}={MANAGED_BY}",
                      "--format", "json", timeout=30, what="list the pods of killed runs")
    pods = [pod for pod in cli.parsed(listed.stdout) if stale(pod.get("Labels"))]
    names = [pod["Name"] for pod in pods]
    remove_pods(podman, names, stuck={pod["Name"] for pod in pods if stuck_stopping(pod)})
    removed = [f"podman pod {name}" for name in names]
    listed = cli.call(podman, "network", "ls", "--filter", f"label={MANAGED_BY_LABEL}={MANAGED_BY}",
                      "--format", "json", timeout=30, what="list the networks of killed runs")
    for network in cli.parsed(listed.stdout):
        if stale(network.get("labels")):
            cli.call(podman, "network", "rm", "--force", network["name"], timeout=60,
                     what="remove the network of a killed run")
            removed.append(f"podman network {network['name']}")
    for workdir in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        try:  # another run may be removing its own directory right now
            owner = owner_file(workdir)
            if workdir.is_dir() and not owner_alive(owner) and (
                    now - workdir.stat().st_mtime > older_than or owner_gone(owner)):
                remove_workdir(workdir)
                removed.append(f"directory {workdir}")
        except (OSError, RecursionError):
            continue
    return removed
