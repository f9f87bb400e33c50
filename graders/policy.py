"""Safety policy applied to student Pods before anything reaches a cluster.

Student YAML is untrusted: a Pod must not reach outside its sandbox. The rules are the Pod Security
Standards "baseline" profile as Kubernetes 1.36 enforces it (pod-security-admission v0.36,
policy/check_*.go), every per-container rule applied to containers, initContainers and
ephemeralContainers. Each violation is reported with its field path and what to do.

Beyond the baseline, a lab declares what it lets a Pod take from the machine (`Allowances`): the volume
types and env sources it needs. Everything else (secret, configMap, persistentVolumeClaim, projected,
downwardAPI volumes, `valueFrom`, `envFrom`, `subPath`) is refused, because podman plays these from
the machine's own stores (its secret store, its named volumes), and subPath is ignored there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Any, Iterator

from graders import bounds

Violation = tuple[str, str]  # (field path, reason)


@dataclass(frozen=True)
class Allowances:
    """What a lab lets a Pod take from outside its own spec. The default is the least: emptyDir
    volumes and literal `env` values only."""

    volumes: AbstractSet[str] = frozenset({"emptyDir"})  # volume source fields, as in the Pod spec
    env_from_sources: bool = False  # `env[].valueFrom` and `envFrom` (Secrets, ConfigMaps, fields)
    sub_path: bool = False  # `volumeMounts[].subPath` and `subPathExpr` (ignored by podman)
    # Kinds a submission may hold (Pod, Service...); empty: the kinds the lab declares (Lab fills it in).
    # A kind allowed here but not declared by the lab is accepted under any name.
    kinds: frozenset[str] = frozenset()

    def __post_init__(self) -> None:  # a lab may write a plain set
        object.__setattr__(self, "volumes", frozenset(self.volumes))
        object.__setattr__(self, "kinds", frozenset(self.kinds))


DEFAULT_ALLOWANCES = Allowances()

BASELINE_CAPABILITIES = frozenset(
    {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
     "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
SAFE_SYSCTLS = frozenset(
    {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
     "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
     "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
     "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
PROFILE_TYPES = frozenset({"RuntimeDefault", "Localhost"})  # seccomp and AppArmor: not Unconfined
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
# The seccomp annotations of Kubernetes < 1.19: baseline (check_seccompProfile_baseline.go, v1.0-1.18) allows
# only these values. Later baselines ignore the annotations, but podman still acts on them (`unconfined`
# turns seccomp off), so every backend refuses the rest.
SECCOMP_ANNOTATIONS = ("seccomp.security.alpha.kubernetes.io/pod", "container.seccomp.security.alpha.kubernetes.io/")
SECCOMP_ANNOTATION_VALUES = frozenset({"runtime/default", "docker/default"})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HOOKS = ("postStart", "preStop")


def violations(pod: dict[str, Any], allows: Allowances = DEFAULT_ALLOWANCES) -> list[Violation]:
    """Every policy violation of a Pod manifest, in field order."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return []  # the structure check reports a missing or malformed spec
    found = list(_pod_violations(spec))
    found += _volume_source_violations(spec, allows)
    found += _annotation_violations(pod.get("metadata"))
    found += _security_context_violations("spec.securityContext", spec.get("securityContext"))
    for path, container in _containers(spec):
        found += _container_violations(path, container, user_namespace=spec.get("hostUsers") is False)
        found += _container_source_violations(path, container, allows)
    return found + bounds.violations(pod)  # what a run lets a Pod take, the same on every backend


# Kinds that make Pods from a template, and where it is: its Pods must keep the same rules.
POD_TEMPLATES = {"Deployment": "spec.template", "ReplicaSet": "spec.template", "StatefulSet": "spec.template",
                 "DaemonSet": "spec.template", "Job": "spec.template"}


def object_violations(document: dict[str, Any], allows: Allowances = DEFAULT_ALLOWANCES) -> list[Violation]:
    """Every policy violation of any object: a Pod's own, or those of the Pods a workload's template makes
    (with the template's field path); other kinds (Service, ConfigMap) start nothing and have none."""
    kind = document.get("kind")
    if kind == "Pod":
        return violations(document, allows)
    where = POD_TEMPLATES.get(str(kind))
    template: Any = document
    for key in (where or "").split(".") if where else ():
        template = template.get(key) if isinstance(template, dict) else None
    if not isinstance(template, dict):
        return []  # not a workload, or the schema reports the missing template
    return [(f"{where}.{path}", reason) for path, reason in violations(template, allows)]


def _volume_source_violations(spec: dict[str, Any], allows: Allowances) -> Iterator[Violation]:
    for index, volume in _items(spec, "volumes"):
        for source in volume:
            if source not in ("name", "hostPath") and source not in allows.volumes:  # hostPath: baseline
                yield (f"spec.volumes[{index}].{source}",
                       f"{source} volumes are not used in this lab (the grader would take them from the "
                       f"machine it runs on): use {_listing(allows.volumes)}")


def _container_source_violations(path: str, container: dict[str, Any], allows: Allowances) -> Iterator[Violation]:
    if not allows.env_from_sources:
        for index, variable in _items(container, "env"):
            if "valueFrom" in variable:
                yield (f"{path}.env[{index}].valueFrom",
                       "this lab takes env values only as literal `value:` (no Secrets, ConfigMaps or fields)")
        if "envFrom" in container:
            yield f"{path}.envFrom", "this lab takes env values only as literal `env: - name/value` items"
    if not allows.sub_path:
        for index, mount in _items(container, "volumeMounts"):
            for key in ("subPath", "subPathExpr"):
                if key in mount:
                    yield (f"{path}.volumeMounts[{index}].{key}",
                           f"{key} is not used in this lab: mount the whole volume")


def _listing(names: AbstractSet[str]) -> str:
    return " or ".join(sorted(names)) or "no volumes"


def _pod_violations(spec: dict[str, Any]) -> Iterator[Violation]:
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            yield f"spec.{flag}", f"{flag} shares the node's namespaces with the Pod: remove it"
    for index, volume in _items(spec, "volumes"):
        if "hostPath" in volume:
            yield f"spec.volumes[{index}].hostPath", "hostPath volumes expose the node's files: use an emptyDir"
    context = spec.get("securityContext")
    sysctls = context.get("sysctls") if isinstance(context, dict) else None
    for index, sysctl in enumerate(sysctls if isinstance(sysctls, list) else []):
        name = sysctl.get("name") if isinstance(sysctl, dict) else sysctl
        if not _one_of(name, SAFE_SYSCTLS):
            yield f"spec.securityContext.sysctls[{index}].name", f"sysctl {name} is not one of the safe sysctls"


def _annotation_violations(metadata: Any) -> Iterator[Violation]:
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    for key, value in (annotations if isinstance(annotations, dict) else {}).items():
        if str(key).startswith(APPARMOR_ANNOTATION) and not (
                value in ("", "runtime/default") or str(value).startswith("localhost/")):
            yield f"metadata.annotations[{key}]", f"AppArmor profile {value!r} is not allowed: use runtime/default"
        if str(key).startswith(SECCOMP_ANNOTATIONS) and not (
                value in SECCOMP_ANNOTATION_VALUES or str(value).startswith("localhost/")):
            yield (f"metadata.annotations[{key}]",
                   f"seccomp profile {value!r} is not allowed: remove the annotation (or use runtime/default)")


def _security_context_violations(path: str, context: Any) -> Iterator[Violation]:
    """Rules shared by the Pod's and each container's securityContext."""
    if not isinstance(context, dict):
        return
    windows = context.get("windowsOptions")
    if isinstance(windows, dict) and windows.get("hostProcess") is True:
        yield f"{path}.windowsOptions.hostProcess", "Windows host processes run on the node itself"
    for profile in ("seccompProfile", "appArmorProfile"):
        value = context.get(profile)
        kind = value.get("type") if isinstance(value, dict) else None
        if kind is not None and not _one_of(kind, PROFILE_TYPES):
            yield f"{path}.{profile}.type", f"{kind} is not allowed: use RuntimeDefault"
    selinux = context.get("seLinuxOptions")
    if isinstance(selinux, dict):
        if not _one_of(selinux.get("type", ""), SELINUX_TYPES):
            yield f"{path}.seLinuxOptions.type", f"SELinux type {selinux['type']!r} is not allowed"
        for field in ("user", "role"):
            if selinux.get(field):
                yield f"{path}.seLinuxOptions.{field}", f"setting the SELinux {field} is not allowed"


def _container_violations(path: str, container: dict[str, Any], user_namespace: bool) -> Iterator[Violation]:
    for index, port in _items(container, "ports"):
        if port.get("hostPort"):
            yield f"{path}.ports[{index}].hostPort", "hostPort binds a port of the node: use containerPort only"
    yield from _host_field_violations(path, container)
    context = container.get("securityContext")
    if not isinstance(context, dict):
        return
    yield from _security_context_violations(f"{path}.securityContext", context)
    if context.get("privileged") is True:
        yield f"{path}.securityContext.privileged", "privileged containers control the node: remove it"
    if context.get("procMount", "Default") != "Default" and not user_namespace:
        yield f"{path}.securityContext.procMount", "only the Default /proc mount is allowed"
    capabilities = context.get("capabilities")
    added = capabilities.get("add") if isinstance(capabilities, dict) else None
    for index, capability in enumerate(added if isinstance(added, list) else []):
        if not _one_of(capability, BASELINE_CAPABILITIES):
            yield (f"{path}.securityContext.capabilities.add[{index}]",
                   f"capability {capability} is beyond the Pod Security 'baseline' profile")


def _host_field_violations(path: str, container: dict[str, Any]) -> Iterator[Violation]:
    """Probes and lifecycle hooks must not name a host: they would reach other machines from the node."""
    handlers = [(f"{path}.{probe}", container.get(probe)) for probe in PROBES]
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        handlers += [(f"{path}.lifecycle.{hook}", lifecycle.get(hook)) for hook in HOOKS]
    for handler_path, handler in handlers:
        for action in ("httpGet", "tcpSocket"):
            target = handler.get(action) if isinstance(handler, dict) else None
            if isinstance(target, dict) and target.get("host"):
                yield f"{handler_path}.{action}.host", "probes and hooks may not name a host: remove it"


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    """Membership for untrusted values: a list or a mapping where a name belongs is never allowed."""
    return isinstance(value, str) and value in allowed


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in CONTAINER_LISTS:
        for index, container in _items(spec, key):
            yield f"spec.{key}[{index}]", container


def _items(parent: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = parent.get(key)
    for index, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, dict):
            yield index, item
