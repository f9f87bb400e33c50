"""The grader's own caps on the size of a Pod: NOT the API server's rules (graders/validation/pod.py has those).

A cluster accepts a Pod of hundreds of containers or volumes: its nodes have room, and its scheduler, quotas and
LimitRanges stop what does not fit. The machine that grades has one run's room, and podman plays each container
and each volume as work on the host (a conmon and a runc per container, a mount per volume): a Pod of 250
containers made `podman kube play` run past the apply timeout, and so into "no points lost". What the labs ask
for is far below these caps (a lab's largest Pod has 2 containers and 1 volume), so a Pod above one is refused
offline, by the `manifests` check, saying that the limit is the grader's and what to do.
"""

from __future__ import annotations

from typing import Any

from graders.validation.errors import Problem

MAX_CONTAINERS = 8  # containers and initContainers of one Pod together
MAX_VOLUMES = 8  # spec.volumes of one Pod
MAX_MOUNTS = 8  # volumeMounts of one container
MAX_ENV = 64  # env entries of one container
GRADER_LIMIT = "the grader's limit for one Pod, not a rule of Kubernetes"


def problems(pod: dict[str, Any]) -> list[Problem]:
    """The grader's caps this Pod exceeds, with field paths; [] when it is within all of them."""
    spec: dict[str, Any] = pod["spec"] if isinstance(pod.get("spec"), dict) else {}
    found: list[Problem] = []
    lists = {key: value for key in ("initContainers", "containers")
             if isinstance(value := spec.get(key), list)}
    count = sum(len(value) for value in lists.values())
    if count > MAX_CONTAINERS:
        found.append(("spec.containers", (
            f"{count} containers (initContainers included): at most {MAX_CONTAINERS} are graded ({GRADER_LIMIT}); "
            "the lab asks for fewer: write only the containers its README names")))
    volumes = spec.get("volumes")
    if isinstance(volumes, list) and len(volumes) > MAX_VOLUMES:
        found.append(("spec.volumes", (
            f"{len(volumes)} volumes: at most {MAX_VOLUMES} are graded ({GRADER_LIMIT}); the lab asks for fewer: "
            "declare only the volumes its README names")))
    for key, containers in lists.items():
        for index, container in enumerate(containers):
            if not isinstance(container, dict):
                continue
            for field, cap, what in (("volumeMounts", MAX_MOUNTS, "volume mounts"), ("env", MAX_ENV, "env entries")):
                entries = container.get(field)
                if isinstance(entries, list) and len(entries) > cap:
                    found.append((f"spec.{key}[{index}].{field}", (
                        f"{len(entries)} {what}: at most {cap} per container are graded ({GRADER_LIMIT})")))
    return found
