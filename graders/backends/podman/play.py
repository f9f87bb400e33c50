"""The copy of a student's Pod that `podman kube play` gets: what podman would do differently from a
cluster is taken out, and what a cluster bounds is bounded. Pure functions: no podman, no files.

- No annotations: podman acts on some (seccomp `unconfined`, `io.containers.sdnotify` hangs play) and
  refuses values over 63 characters; the checks read annotations from the submitted spec.
- No ports: podman would publish containerPort on the host.
- `$(VAR)` in command and args (and in env values) is expanded from the container's literal env, as
  the kubelet does; podman 4.3 passes it through as written. A string past what Linux passes to a program
  is never built (TooLong): no node could start that container.
- Resource limits on every container: memory (the student's if lower), CPU; requests never above them.
- emptyDir volumes become hostPath volumes of folders the caller names (never from the volume's name).
- restartPolicy Never: restarts are the grader's kubelet's, with back-off (kubelet.py).
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

MEMORY_LIMIT = 512 * 1024**2  # bytes a container may use unless the student asks for less
CPU_LIMIT = Decimal(1)  # CPUs a container may use unless the student asks for less
POD_PIDS_LIMIT = 1024  # processes (and threads) of all containers of a Pod together
POD_MEMORY_LIMIT = 1024**3  # bytes of memory of all containers of a Pod together, tmpfs emptyDirs included
EMPTYDIR_CAP = 128 * 1024**2  # bytes of an emptyDir without a lower sizeLimit
LOG_MAX_SIZE = "10mb"  # `--log-opt max-size`: a container's log file on the machine
CONTAINER_LISTS = ("initContainers", "containers")

_SUFFIXES: dict[str, Decimal | int] = {
    "": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10**3, "M": 10**6,
    "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
    "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (`512Mi`, `500m`, `1e3`, 2) as a number, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    try:
        number = Decimal(match.group(1)) * _SUFFIXES[match.group(2) or ""]
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# What Linux passes to a program it starts (execve(2)): a single argument or `NAME=value` string of at most
# MAX_ARG_STRLEN (32 pages: 128 KiB), and all of them together within ARG_MAX (a quarter of the 8 MiB stack
# limit: 2 MiB). A container's command, args and env reach its first process that way, so a container beyond
# either cannot start on any node ("argument list too long"). The kubelet builds them by the same expansion
# (k8s.io/kubernetes pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, pkg/kubelet/container/helpers.go
# ExpandContainerCommandAndArgs), and the API server bounds none of it: only the object's size (etcd's 1.5 MiB
# request limit), which a 1 KB bomb passes.
MAX_ARG_BYTES = 128 * 1024
MAX_ARGS_TOTAL = 2 * 1024**2


class TooLong(ValueError):
    """A string of a container that no program can be started with, once $(VAR) is expanded."""

    def __init__(self, where: str, limit: int) -> None:
        super().__init__(where)
        self.where, self.limit = where, limit


def expand(text: str, variables: dict[str, str], limit: int = MAX_ARG_BYTES, where: str = "") -> str:
    """The kubelet's `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion):
    `$$` is a literal `$`, `$(NAME)` is NAME's value when defined and stays as written otherwise.
    TooLong as soon as the result would pass `limit` bytes: a bomb (each variable the previous one eight
    times) is never built."""
    out, cursor, size = [], 0, 0
    while cursor < len(text):
        dollar = text.find("$", cursor)
        if dollar != cursor:  # the text up to the next `$`, as written
            piece, cursor = (text[cursor:], len(text)) if dollar < 0 else (text[cursor:dollar], dollar)
        elif cursor + 1 == len(text):
            piece, cursor = "$", cursor + 1
        else:
            following = text[cursor + 1]
            if following == "$":
                piece, cursor = "$", cursor + 2
            elif following == "(" and ")" in text[cursor + 2:]:
                end = text.index(")", cursor + 2)
                name = text[cursor + 2:end]
                piece, cursor = variables.get(name, f"$({name})"), end + 1
            else:  # `$(` without a closing parenthesis, or `$x`: copied as written
                piece, cursor = "$" + following, cursor + 2
        size += len(piece) if piece.isascii() else len(piece.encode())
        if size > limit:
            raise TooLong(where, limit)
        out.append(piece)
    return "".join(out)


def expand_container(container: dict[str, Any]) -> None:
    """Expand env values (each from the ones above it), then command and args, in place. TooLong when a
    string, or all of them, would be more than a program can be started with."""
    variables: dict[str, str] = {}
    total = 0
    for variable in container.get("env") or []:
        if isinstance(variable, dict) and isinstance(variable.get("value"), str):
            name = str(variable.get("name"))
            room = MAX_ARG_BYTES - len(name.encode()) - 1  # the program gets `NAME=value`
            variable["value"] = expand(variable["value"], variables, room, f"env {name}")
            variables[name] = variable["value"]
            total += len(variable["value"].encode()) + len(name.encode()) + 2
    for key in ("command", "args"):
        if isinstance(container.get(key), list):
            container[key] = [expand(item, variables, where=f"{key}[{index}]") if isinstance(item, str) else item
                              for index, item in enumerate(container[key])]
            total += sum(len(str(item).encode()) + 1 for item in container[key])
    if total > MAX_ARGS_TOTAL:
        raise TooLong("command, args and env together", MAX_ARGS_TOTAL)


def bound_resources(container: dict[str, Any]) -> None:
    """Memory and CPU limits on a container: the student's own when lower, else ours; requests capped."""
    resources = _mapping(container.get("resources"))
    limits, requests = _mapping(resources.get("limits")), _mapping(resources.get("requests"))
    memory = _lowest(limits.get("memory"), MEMORY_LIMIT)
    cpu = _lowest(limits.get("cpu"), CPU_LIMIT)
    bounded = {"limits": {"memory": _bytes(memory), "cpu": _cpu(cpu)}}
    wanted = {"memory": _lowest(requests.get("memory"), memory), "cpu": _lowest(requests.get("cpu"), cpu)}
    bounded["requests"] = {"memory": _bytes(wanted["memory"]), "cpu": _cpu(wanted["cpu"])}
    container["resources"] = bounded


def emptydir_size(volume: dict[str, Any]) -> int:
    """Bytes an emptyDir may hold: its sizeLimit, at most EMPTYDIR_CAP."""
    source = _mapping(volume.get("emptyDir"))
    return int(_lowest(source.get("sizeLimit"), EMPTYDIR_CAP))


def _mapping(value: Any) -> dict[str, Any]:
    """The field when it is a mapping, else an empty one (the schema check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


INIT_CONTAINER_TYPE = "io.podman.annotations.init.container.type"


def spec_has_init(pod: dict[str, Any]) -> bool:
    return bool(isinstance(pod.get("spec"), dict) and pod["spec"].get("initContainers"))


def playable(pod: dict[str, Any], name: str, labels: dict[str, str],
             volume_folder: Callable[[int, dict[str, Any]], Path]) -> dict[str, Any]:
    """The copy podman plays, under the name `name` with `labels`. volume_folder(index, volume) gives
    the host folder of the index-th volume, an emptyDir (other volume types never reach podman)."""
    played = copy.deepcopy(pod)
    metadata = played["metadata"]
    metadata["name"] = name
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    # The student's annotations act on podman as they never would on a cluster: none are played. The
    # grader's own: init containers of type "always" (podman 4.3's "once" removes an init container after
    # it ran and races with it: "failed to remove once init container ... as it is running").
    metadata.pop("annotations", None)
    spec = played["spec"]
    if spec_has_init(played):
        metadata["annotations"] = {INIT_CONTAINER_TYPE: "always"}
    # podman restarts an exiting container at once, for ever (a restart storm of conmon, runc and cleanup
    # processes on the host); the grader's kubelet starts containers again instead, as the submitted policy
    # says and with the kubelet's back-off (kubelet.py). podman 4.3 gives init containers the Pod's
    # policy too: with Never a failed init container fails the Pod's start, as the kubelet's first try does.
    spec["restartPolicy"] = "Never"
    for key in CONTAINER_LISTS:
        for container in spec.get(key) or []:
            container.pop("ports", None)
            try:
                expand_container(container)
            except TooLong as error:
                error.where = f"container {container.get('name')}: {error.where}"
                raise
            bound_resources(container)
    for index, volume in enumerate(spec.get("volumes") or []):
        if "emptyDir" in volume or set(volume) == {"name"}:  # no source: the API server defaults to emptyDir
            folder = volume_folder(index, volume)
            volume.pop("emptyDir", None)
            volume["hostPath"] = {"path": str(folder), "type": "Directory"}
    return played


def _lowest(value: Any, ceiling: Decimal | int) -> Decimal:
    """The student's quantity when it is a positive number below the ceiling, else the ceiling."""
    number = quantity(value)
    return number if number is not None and 0 < number < ceiling else Decimal(ceiling)


def _bytes(memory: Decimal) -> str:
    return str(max(1, int(memory)))  # 0 would mean "no limit" to podman


def _cpu(cpus: Decimal) -> str:
    return f"{max(1, int(cpus * 1000))}m"
