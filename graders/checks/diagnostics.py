"""What to show a student with a failure: the containers' last log lines and the Pod's events."""

from __future__ import annotations

from graders.backends.base import PodState
from graders.run import LabRun

LOG_LINES = 10
EVENT_LINES = 10

# Waiting reasons that cannot fix themselves: fail at once, with what to do.
PULL_FAILED = "the image cannot be pulled: check its name and tag against the README (a typo is the usual cause)"
FATAL_REASONS = {
    "ErrImagePull": PULL_FAILED,
    "ImagePullBackOff": PULL_FAILED,
    "ErrImageNeverPull": "the image is not on the node and imagePullPolicy is Never",
    "InvalidImageName": "the image field is not a valid image reference (name:tag, e.g. nginx:1.25)",
    "CrashLoopBackOff": "the container keeps exiting and being restarted: its command must keep running "
                        "(read its last log lines below)",
    "CreateContainerConfigError": "the container's configuration refers to something missing "
                                  "(a ConfigMap, Secret or volume)",
    "CreateContainerError": "the container could not be created: check its command, args and volumeMounts",
    "RunContainerError": "the container's command could not be started: check command and args "
                         "(is the program in the image?)",
}


def describe(state: PodState | None) -> str:
    """A Pod's state in kubectl's words: 'STATUS Running, READY 1/2; log-shipper: CrashLoopBackOff (...)'."""
    if state is None:
        return "the Pod does not exist"
    ready = sum(1 for c in state.containers if c.ready)
    parts = [f"STATUS {state.phase}, READY {ready}/{len(state.containers)}"]
    for container in state.containers:
        if container.running and container.ready:
            continue
        detail = container.reason or ("running, not Ready" if container.running else "not running")
        if container.message:
            detail += f" ({container.message})"
        parts.append(f"container {container.name}: {detail}")
    if state.terminating:
        parts.append("being deleted")
    return "; ".join(parts)


def details(run: LabRun, pod: str, containers: list[str] | None = None) -> list[tuple[str, str]]:
    """Last log lines of each container and the Pod's recent events, for a failure message."""
    state = run.sandbox.state(pod)
    names = containers or ([c.name for c in state.containers] if state else [])
    found: list[tuple[str, str]] = []
    for name in names:
        found.append((f"Last log lines of {pod}/{name}", run.sandbox.logs(pod, name, tail=LOG_LINES)))
    events = run.sandbox.events(pod)[-EVENT_LINES:]
    found.append((f"Recent events of {pod}", "\n".join(events)))
    return found
