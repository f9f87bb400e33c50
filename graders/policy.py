"""Safety policy applied to student Pods before anything reaches a cluster.

Student YAML is untrusted: a Pod must not reach outside its sandbox. The rules follow the Pod
Security Standard "baseline" profile for the fields a Pod lab can set; each violation is reported
with the field path, in the words a student can act on.
"""

from __future__ import annotations

from typing import Any, Iterator

# Pod Security "baseline": the only capabilities a container may add.
BASELINE_CAPABILITIES = frozenset(
    {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
     "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def violations(pod: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (field path, reason) for every policy violation of a Pod manifest."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return []  # schema validation reports a missing or malformed spec
    found: list[tuple[str, str]] = []
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            found.append((f"spec.{flag}", f"{flag} shares the node's namespaces with the Pod"))
    for index, volume in _items(spec, "volumes"):
        if "hostPath" in volume:
            found.append((f"spec.volumes[{index}].hostPath", "hostPath volumes expose the node's files"))
    for path, container in _containers(spec):
        found.extend(_container_violations(path, container))
    return found


def _container_violations(path: str, container: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for index, port in _items(container, "ports"):
        if port.get("hostPort"):
            yield f"{path}.ports[{index}].hostPort", "hostPort binds a port of the node"
    security = container.get("securityContext")
    if not isinstance(security, dict):
        return
    if security.get("privileged") is True:
        yield f"{path}.securityContext.privileged", "privileged containers control the node"
    capabilities = security.get("capabilities")
    added = capabilities.get("add") if isinstance(capabilities, dict) else None
    for index, capability in enumerate(added if isinstance(added, list) else []):
        if str(capability).upper().removeprefix("CAP_") not in BASELINE_CAPABILITIES:
            yield (f"{path}.securityContext.capabilities.add[{index}]",
                   f"capability {capability} is beyond the Pod Security 'baseline' profile")


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in CONTAINER_LISTS:
        for index, container in _items(spec, key):
            yield f"spec.{key}[{index}]", container


def _items(parent: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = parent.get(key)
    for index, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, dict):
            yield index, item
