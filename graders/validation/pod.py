"""A Pod as the API server's ValidatePodCreate checks it (k8s.io/kubernetes
pkg/apis/core/validation/validation.go: validatePodMetadataAndSpec, ValidatePodSpec, ValidateVolumes,
validateVolumeSource, validateRestartPolicy, validateDNSPolicy, validatePodSpecSecurityContext,
validateSeccompProfileField, ValidatePodCreate), for the fields a student writes.

The Pod has passed the schema check (types and field names) and the decoder's checks (decoding.py).
"""

from __future__ import annotations

from typing import Any

from graders.validation import containers
from graders.validation.containers import items
from graders.validation.errors import Problem, is_number, duplicate, forbidden, invalid, required, unsupported
from graders.validation.names import (HINT_NAME, annotation_keys, dns1123_label, dns1123_subdomain, labels)
from graders.validation.quantity import QuantityError, parse

RESTART_POLICIES = ("Always", "OnFailure", "Never")  # in upstream's order
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")  # in upstream's order
SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")  # upstream lists the set sorted
MAX_ID = 2147483647
# A volume's source: a volume names exactly one (the policy decides which a lab allows).
VOLUME_SOURCES = ("emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs",
                  "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte",
                  "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume",
                  "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO",
                  "csi", "ephemeral", "image")


def problems(pod: dict[str, Any]) -> list[Problem]:
    """Every 422 of this Pod, with its field path; [] when the API server would accept it."""
    metadata, spec = _mapping(pod.get("metadata")), _mapping(pod.get("spec"))
    found: list[Problem] = []
    name = metadata.get("name")
    if isinstance(name, str):
        found += [("metadata.name", invalid(name, message, HINT_NAME)) for message in dns1123_subdomain(name)]
    found += labels(metadata.get("labels"), "metadata.labels")
    found += annotation_keys(metadata.get("annotations"), "metadata.annotations")
    volumes, volume_problems = _volumes(spec)
    found += volume_problems
    found += containers.containers(spec, volumes)
    found += _spec_fields(spec)
    if spec.get("ephemeralContainers"):
        found.append(("spec.ephemeralContainers", forbidden("cannot be set on create", (
            "ephemeral containers are added to a running Pod with kubectl debug; a helper that runs with the Pod "
            "is an entry of containers:"))))
    return found


def _mapping(value: Any) -> dict[str, Any]:
    """The field when it is a mapping, else an empty one (the schema check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _volumes(spec: dict[str, Any]) -> tuple[set[str], list[Problem]]:
    """The names a volumeMount may use, and the volumes' problems: as upstream, a volume with a problem
    is not one a mount can name."""
    names: set[str] = set()
    found: list[Problem] = []
    for index, volume in items(spec.get("volumes")):
        where, name = f"spec.volumes[{index}]", volume.get("name")
        own = _source(where, volume)
        if name == "":
            own.append((f"{where}.name", required(hint="every volume needs a name, e.g. logs")))
        elif isinstance(name, str):
            own += [(f"{where}.name", invalid(name, message, HINT_NAME)) for message in dns1123_label(name)]
        if isinstance(name, str) and name in names:
            own.append((f"{where}.name", duplicate(name, "two volumes with one name: rename or remove one")))
        if own:
            found += own
        elif isinstance(name, str):
            names.add(name)
    return names, found


def _source(where: str, volume: dict[str, Any]) -> list[Problem]:
    """No source is an emptyDir (the API server's default); more than one is refused."""
    given = [key for key in VOLUME_SOURCES if volume.get(key) is not None]
    found = [(f"{where}.{key}", forbidden("may not specify more than 1 volume type",
                                          f"a volume is one kind of storage: keep {given[0]}")) for key in given[1:]]
    empty_dir = volume.get("emptyDir")
    limit = empty_dir.get("sizeLimit") if isinstance(empty_dir, dict) else None
    if limit is not None:
        try:
            negative = parse(limit).value < 0
        except QuantityError:
            negative = False  # the decoder's problem, reported before validation
        if negative:
            found.append((f"{where}.emptyDir.sizeLimit", forbidden("SizeLimit field must be a valid resource "
                                                                   "quantity", "a size such as 64Mi")))
    return found


def _spec_fields(spec: dict[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    policy = spec.get("restartPolicy")
    if isinstance(policy, str) and policy and policy not in RESTART_POLICIES:
        found.append(("spec.restartPolicy", unsupported(policy, RESTART_POLICIES, (
            "Always restarts a container whenever it stops, right for a server; OnFailure and Never are for a "
            "task that finishes; mind the capital letter"))))
    dns = spec.get("dnsPolicy")
    if isinstance(dns, str) and dns and dns not in DNS_POLICIES:
        found.append(("spec.dnsPolicy", unsupported(dns, DNS_POLICIES, "or leave dnsPolicy out: ClusterFirst")))
    found += labels(spec.get("nodeSelector"), "spec.nodeSelector", (
        "a nodeSelector is node labels, e.g. kubernetes.io/os: linux"))
    for key in ("serviceAccountName", "nodeName", "priorityClassName", "runtimeClassName"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            found += [(f"spec.{key}", invalid(value, message)) for message in dns1123_subdomain(value)]
    for key in ("hostname", "subdomain"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            found += [(f"spec.{key}", invalid(value, message, HINT_NAME)) for message in dns1123_label(value)]
    deadline = spec.get("activeDeadlineSeconds")
    if is_number(deadline) and not 1 <= deadline <= MAX_ID:
        found.append(("spec.activeDeadlineSeconds", invalid(deadline, f"must be between 1 and {MAX_ID}, inclusive")))
    found += _security_context(_mapping(spec.get("securityContext")))
    return found


def _security_context(context: dict[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    where = "spec.securityContext"
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        value = context.get(key)
        if is_number(value) and not 0 <= value <= MAX_ID:
            found.append((f"{where}.{key}", invalid(value, f"must be between 0 and {MAX_ID}, inclusive")))
    for index, group in enumerate(context.get("supplementalGroups") or []):
        if is_number(group) and not 0 <= group <= MAX_ID:
            found.append((f"{where}.supplementalGroups[{index}]",
                          invalid(group, f"must be between 0 and {MAX_ID}, inclusive")))
    change = context.get("fsGroupChangePolicy")
    if isinstance(change, str) and change not in FS_GROUP_CHANGE_POLICIES:
        found.append((f"{where}.fsGroupChangePolicy", unsupported(change, FS_GROUP_CHANGE_POLICIES)))
    profile = context.get("seccompProfile")
    kind = profile.get("type") if isinstance(profile, dict) else None
    if isinstance(kind, str) and kind not in SECCOMP_TYPES:
        found.append((f"{where}.seccompProfile.type", unsupported(kind, SECCOMP_TYPES) if kind else
                      required("type is required when seccompProfile is set")))
    return found

