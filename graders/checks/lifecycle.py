"""Pods (and the lab's other objects) are deleted cleanly, as `kubectl delete` does, and nothing of the
run is left."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from graders.backends.base import PodState
from graders.errors import CheckFailed
from graders.run import LabRun

SIGTERM_BIT = 1 << (15 - 1)  # bit of SIGTERM in /proc/PID/status signal masks
SHORT_GRACE = 0  # seconds granted to a Pod that will not stop on SIGTERM anyway: it is killed at the end of any grace
SHORT_ENOUGH = 2  # a Pod's own grace period this short needs no shortening, and no note about SIGTERM
DEFAULT_GRACE = 30  # Kubernetes' terminationGracePeriodSeconds when a Pod sets none


def sigterm_ignored_by(run: LabRun, pod: str, container: str) -> str | None:
    """The name of the container's PID 1 when it has no SIGTERM handler (as a namespace's init process
    the kernel then drops SIGTERM, and deleting the Pod waits out its whole grace period), else None."""
    status = run.sandbox.first_process_status(pod, container, timeout=run.timeouts.exec)
    if status is None:
        return None  # cannot tell: grant the Pod its own grace period
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    caught = int(fields.get("SigCgt", "0").strip() or "0", 16)
    return None if caught & SIGTERM_BIT else (fields.get("Name", "").strip() or "its first process")


def deleted_cleanly(run: LabRun, pods: Sequence[str], objects: Sequence[tuple[str, str]] = (), *,
                    sigterm_tip: str = "") -> None:
    """Each Pod that was created is deleted and gone within the delete timeout, then each other object
    (kind, name), such as the Service in front of the Pods; nothing is left. `sigterm_tip`: the lab's
    own way to make its containers stop on SIGTERM, added to the note."""
    for pod in pods:  # a Pod that was never created cannot be deleted cleanly: not graded, as its checks
        run.require(pod)
    for kind, name in objects:
        run.require(name, kind)
    present = {pod: state for pod in pods for state in [run.sandbox.state(pod)] if state is not None}
    if pods and not present:
        raise CheckFailed(
            expected=f"the Pods {', '.join(pods)} to exist, so that deleting them can be checked",
            observed="none of them exists any more",
            hint="fix the checks above first")
    with ThreadPoolExecutor(max_workers=max(1, len(present))) as pool:
        failures = [f for f in pool.map(lambda pod: _delete(run, pod, present[pod], sigterm_tip), present) if f]
    failures += [f"{kind} {name} still exists after {run.timeouts.delete:g} s" for kind, name in objects
                 if not run.sandbox.delete(name, grace_seconds=None, timeout=run.timeouts.delete, kind=kind)]
    if failures:
        raise CheckFailed(
            expected=f"each Pod gone within {run.timeouts.delete:g} s of `kubectl delete pod`",
            observed="; ".join(failures),
            hint="a Pod is killed only when its grace period (terminationGracePeriodSeconds) ends: a container "
                 "must exit on SIGTERM, and the grace period should stay short (the default is 30 s)")
    names = [*pods, *(name for _, name in objects)]
    left = [item for item in run.sandbox.leftovers() if any(name in item for name in names)]
    if left:
        raise CheckFailed(expected="nothing of the deleted Pods left behind",
                          observed="still present: " + ", ".join(left))


def _delete(run: LabRun, pod: str, state: PodState, sigterm_tip: str) -> str | None:
    own_grace = int(state.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE))
    running = [c.name for c in state.containers if c.running] if own_grace > SHORT_ENOUGH else []
    with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:  # a cluster execs into each: at once
        programs = list(pool.map(lambda name: sigterm_ignored_by(run, pod, name), running))
    ignored_by = {name: program for name, program in zip(running, programs, strict=True) if program}
    stubborn = list(ignored_by)
    for name, program in ignored_by.items():
        run.note(f"container {name} of Pod {pod} ignores SIGTERM (its first process, {program}, has no "
                 f"handler for it), so `kubectl delete pod` waits out the grace period ({own_grace} s) "
                 f"before killing it. Harmless; to stop faster set terminationGracePeriodSeconds: 2"
                 + (f", or {sigterm_tip}" if sigterm_tip else ""))
    grace = SHORT_GRACE if stubborn else None
    if run.sandbox.delete(pod, grace_seconds=grace, timeout=run.timeouts.delete):
        return None
    if own_grace > run.timeouts.delete and not stubborn:
        return (f"Pod {pod} still exists after {run.timeouts.delete:g} s: its containers handle SIGTERM without "
                f"exiting, and terminationGracePeriodSeconds: {own_grace} lets them run that long")
    return f"Pod {pod} still exists after {run.timeouts.delete:g} s"
