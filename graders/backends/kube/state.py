"""What the API says about a Pod, in the backend interface's terms (graders/backends/base.py): its
containers' states, whether a failed pull is the student's, an exec's exit code, the server's version."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from kubernetes import client

from graders import images
from graders.backends.base import NOT_FOUND, ContainerState, PodState
from graders.versions import LAB_IMAGES

# A pull failure is the student's only when the registry says the image does not exist (or the image
# is not one the lab names): rate limits (429 toomanyrequests), registry timeouts, DNS inside the node
# and a proxy's certificate are the machine's, and the kubelet retries them and usually succeeds.
PULLING = "PullingImage"  # waiting reason for such a pull: not fatal, the checks keep waiting
# waiting reasons of a container the kubelet has not created yet: ContainerCreating, or PodInitializing in
# a Pod with init containers (pkg/kubelet/kubelet_pods.go, convertToAPIContainerStatuses)
NOT_STARTED = ("ContainerCreating", "PodInitializing")
NO_SUCH_IMAGE = ("not found", "manifest unknown", "pull access denied", "invalid reference",
                 "repository does not exist")
NATIVE_SIDECARS_SINCE = 29  # Kubernetes 1.29: SidecarContainers beta, on by default


def pod_state(pod: client.V1Pod, api: client.ApiClient) -> PodState:
    spec, metadata = pod.spec, pod.metadata
    assert spec is not None and metadata is not None, "the API server sends every Pod with both"
    statuses = {s.name: s for s in (pod.status.container_statuses or [])} if pod.status else {}
    inits = {s.name: s for s in (pod.status.init_container_statuses or [])} if pod.status else {}
    containers = tuple(_container_state(c.name, c.image or "", statuses.get(c.name)) for c in spec.containers)
    # native sidecars (initContainers with restartPolicy: Always) are containers of the Pod for every check;
    # the other init containers run to completion first and are reported beside them, by name: while one
    # of them fails, the containers only wait in PodInitializing
    sidecars = [c for c in spec.init_containers or [] if getattr(c, "restart_policy", None) == "Always"]
    ordinary = [c for c in spec.init_containers or [] if getattr(c, "restart_policy", None) != "Always"]
    containers += tuple(_container_state(c.name, c.image or "", inits.get(c.name)) for c in sidecars)
    init_containers = tuple(_container_state(c.name, c.image or "", inits.get(c.name)) for c in ordinary)
    # what really runs: the runtime's image ID (repo@sha256:...), whatever the image string said
    ids = {**{name: getattr(s, "image_id", "") or "" for name, s in inits.items()},
           **{name: getattr(s, "image_id", "") or "" for name, s in statuses.items()}}
    containers = tuple(replace(c, image_id=ids.get(c.name, "")) for c in containers)
    init_containers = tuple(replace(c, image_id=ids.get(c.name, "")) for c in init_containers)
    return PodState(name=metadata.name or "", phase=(pod.status.phase if pod.status else None) or "Pending",
                    labels=dict(metadata.labels or {}), spec=api.sanitize_for_serialization(spec),
                    containers=containers, terminating=metadata.deletion_timestamp is not None,
                    init_containers=init_containers)


def _container_state(name: str, image: str, status: client.V1ContainerStatus | None) -> ContainerState:
    if status is None or status.state is None:  # no status yet: the kubelet has not looked at the Pod
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    last = status.last_state.terminated if status.last_state else None
    restarts, exit_code = status.restart_count or 0, last.exit_code if last else None
    if status.state.running:
        return ContainerState(name, image, running=True, ready=bool(status.ready), restarts=restarts,
                              exit_code=exit_code)
    if status.state.waiting:
        waiting = status.state.waiting
        reason, message = waiting.reason or "", waiting.message or ""
        if reason in ("ErrImagePull", "ImagePullBackOff") and not pull_is_fatal(image, message):
            reason = PULLING
        return ContainerState(name, image, running=False, ready=False, reason=reason, message=message,
                              restarts=restarts, exit_code=exit_code)
    terminated = status.state.terminated
    if terminated is None:  # no state set: the API's default is waiting
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    return ContainerState(name, image, running=False, ready=False, reason=terminated.reason or "Terminated",
                          message=terminated.message or f"exited with code {terminated.exit_code}",
                          restarts=restarts, exit_code=terminated.exit_code)


def pull_is_fatal(image: str, message: str) -> bool:
    """True when a failed pull is the student's: an image the lab does not name, or a registry that
    says it does not exist. ImagePullBackOff's message ("Back-off pulling image ...") has no cause:
    for a lab image it is waited on, as the kubelet retries it."""
    if not any(images.same_reference(image, lab) for lab in LAB_IMAGES):
        return True
    return any(words in message.lower() for words in NO_SUCH_IMAGE)


def exec_status(error_channel: str) -> tuple[int, str]:
    """Exit code of an exec from the API's error channel, and the API's message when it is no exit code.

    Success -> 0; `NonZeroExitCode` -> the code in details.causes; a program that could not be started
    (not in the image) -> 127, as a shell says; anything else -> 126 with the API's message.
    """
    if not error_channel.strip():
        return 0, ""
    try:
        status = json.loads(error_channel)
    except ValueError:
        return 126, error_channel
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", 126)), ""
    message = status.get("message", "")
    if "executable file not found" in message or "no such file or directory" in message:
        return NOT_FOUND, message
    return 126, message


def server_minor(version: str) -> int | None:
    """29 for v1.29.3, v1.29.3-gke.1 or 1.29+; None when the version says nothing."""
    found = re.match(r"v?1\.(\d+)", version.strip())
    return int(found.group(1)) if found else None
