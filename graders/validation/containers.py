"""Containers and init containers as the API server checks them (k8s.io/kubernetes
pkg/apis/core/validation/validation.go: validateContainers, validateInitContainers,
validateContainerCommon, validateContainerPorts, ValidateEnv, ValidateVolumeMounts, validatePullPolicy,
validateResourceRequirements, validateContainerOnlyForPod, AccumulateUniqueHostPorts).

Defaults applied before validation are no errors (pkg/apis/core/v1/defaults.go): a port's protocol
"" is TCP, an imagePullPolicy or terminationMessagePolicy of "" is chosen for the student.
"""

from __future__ import annotations

from typing import Any, Iterator

from graders.validation import probes, resources
from graders.validation.errors import (Problem, duplicate, forbidden, invalid, is_number, not_found, required,
                                      unsupported)
from graders.validation.names import HINT_NAME, PORT_RANGE_MESSAGE, dns1123_label, env_name, port_name

PROTOCOLS = ("SCTP", "TCP", "UDP")  # upstream lists the set sorted
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")  # in upstream's order
INIT_RESTART_POLICIES = ("Always",)
INIT_ONLY_IN_SIDECARS = ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe")


def items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mappings of a list, with their index (the schema check reports anything else)."""
    for index, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, dict):
            yield index, item


def containers(spec: dict[str, Any], volumes: set[str]) -> list[Problem]:
    """The Pod's containers, then its init containers, as upstream orders them. A name is unique among
    both lists; a clash is reported on the init container."""
    problems: list[Problem] = []
    grace = spec.get("terminationGracePeriodSeconds", 30)
    names: set[str] = set()
    for index, container in items(spec.get("containers")):
        where = f"spec.containers[{index}]"
        problems += _common(where, container, volumes)
        name = container.get("name")
        if isinstance(name, str) and name in names:
            problems.append((f"{where}.name", duplicate(name, "each container of a Pod, init containers included, "
                                                              "needs a name of its own")))
        if isinstance(name, str):
            names.add(name)
        problems += _probes_and_hooks(where, container, grace)
        if container.get("restartPolicy") is not None:
            problems.append((f"{where}.restartPolicy", forbidden(
                "may not be set for non-init containers", "restartPolicy belongs to the Pod's spec (beside "
                                                          "containers:), not to a container")))
    problems += _host_port_conflicts("spec.containers", [c for _, c in items(spec.get("containers"))])
    for index, container in items(spec.get("initContainers")):
        where = f"spec.initContainers[{index}]"
        problems += _common(where, container, volumes)
        policy = container.get("restartPolicy")
        if isinstance(policy, str) and policy not in INIT_RESTART_POLICIES:
            problems.append((f"{where}.restartPolicy", unsupported(policy, INIT_RESTART_POLICIES, (
                "an init container takes only restartPolicy: Always (a sidecar that keeps running); for one that "
                "runs once, leave restartPolicy out"))))
        name = container.get("name")
        if isinstance(name, str) and name in names:
            problems.append((f"{where}.name", duplicate(name, "each container of a Pod, init containers included, "
                                                              "needs a name of its own")))
        elif isinstance(name, str) and name:
            names.add(name)
        problems += _host_port_conflicts("spec.initContainers", [container], index)
        if policy == "Always":
            problems += _probes_and_hooks(where, container, grace)
        else:
            problems += [(f"{where}.{key}", forbidden(
                "may not be set for init containers without restartPolicy=Always",
                "an init container runs to completion before the others start: nothing to probe; move the probe "
                "to a container of containers:")) for key in INIT_ONLY_IN_SIDECARS if container.get(key) is not None]
    return problems


def _common(where: str, container: dict[str, Any], volumes: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    name = container.get("name")
    if name == "":
        problems.append((f"{where}.name", required(hint="every container needs a name, e.g. app")))
    elif isinstance(name, str):
        problems += [(f"{where}.name", invalid(name, message, HINT_NAME)) for message in dns1123_label(name)]
    image = container.get("image")
    if image == "":
        problems.append((f"{where}.image", required(hint="the image to run: name:tag, as the lab's README says")))
    policy = container.get("terminationMessagePolicy")
    if isinstance(policy, str) and policy and policy not in TERMINATION_MESSAGE_POLICIES:
        problems.append((f"{where}.terminationMessagePolicy", unsupported(policy, TERMINATION_MESSAGE_POLICIES)))
    problems += _ports(where, container.get("ports"))
    problems += _env(where, container.get("env"))
    problems += _mounts(where, container.get("volumeMounts"), volumes)
    pull = container.get("imagePullPolicy")
    if isinstance(pull, str) and pull and pull not in PULL_POLICIES:
        problems.append((f"{where}.imagePullPolicy", unsupported(pull, PULL_POLICIES, (
            "Always, IfNotPresent or Never, spelt as here; or leave it out"))))
    if isinstance(container.get("resources"), dict):
        problems += resources.requirements(f"{where}.resources", container["resources"])
    if isinstance(image, str) and image != image.strip():  # validateContainerOnlyForPod: a Pod, not a template
        problems.append((f"{where}.image", invalid(image, "must not have leading or trailing whitespace",
                                                   "remove the spaces inside the quotes")))
    return problems


def _probes_and_hooks(where: str, container: dict[str, Any], grace: Any) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(container.get("lifecycle"), dict):
        problems += probes.lifecycle(f"{where}.lifecycle", container["lifecycle"], grace)
    for kind in probes.PROBES:
        if isinstance(container.get(kind), dict):
            problems += probes.probe(f"{where}.{kind}", container[kind], kind, grace)
    return problems


def _ports(where: str, ports: Any) -> list[Problem]:
    problems: list[Problem] = []
    names: set[str] = set()
    for index, port in items(ports):
        at = f"{where}.ports[{index}]"
        name = port.get("name")
        if isinstance(name, str) and name:
            messages = port_name(name)
            problems += [(f"{at}.name", invalid(name, message, "a port name is at most 15 lower-case letters, digits "
                                                               "and '-', e.g. http")) for message in messages]
            if not messages and name in names:
                problems.append((f"{at}.name", duplicate(name, "two ports of a container need two names")))
            names.add(name)
        number = port.get("containerPort")
        if number == 0:
            problems.append((f"{at}.containerPort", required(hint="the port your program listens on, e.g. 80")))
        elif is_number(number) and not 1 <= number <= 65535:
            problems.append((f"{at}.containerPort", invalid(number, PORT_RANGE_MESSAGE)))
        host = port.get("hostPort")
        if is_number(host) and host != 0 and not 1 <= host <= 65535:
            problems.append((f"{at}.hostPort", invalid(host, PORT_RANGE_MESSAGE)))
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol and protocol not in PROTOCOLS:
            problems.append((f"{at}.protocol", unsupported(protocol, PROTOCOLS, (
                "in capitals: TCP, UDP or SCTP; or leave protocol out, TCP is the default"))))
    return problems


def _host_port_conflicts(where: str, containers: list[dict[str, Any]], offset: int = 0) -> list[Problem]:
    """One host port, protocol and address per Pod (per init container for init containers)."""
    seen: set[str] = set()
    problems: list[Problem] = []
    for index, container in enumerate(containers, start=offset):
        for number, port in items(container.get("ports")):
            host = port.get("hostPort")
            if not is_number(host) or host == 0:
                continue
            key = f"{port.get('protocol') or 'TCP'}/{port.get('hostIP') or ''}/{host}"
            if key in seen:
                problems.append((f"{where}[{index}].ports[{number}].hostPort", duplicate(key)))
            seen.add(key)
    return problems


def _env(where: str, env: Any) -> list[Problem]:
    problems: list[Problem] = []
    for index, variable in items(env):
        name = variable.get("name")
        if name == "":
            problems.append((f"{where}.env[{index}].name", required(hint="every variable needs a name, e.g. "
                                                                         "GREETING")))
        elif isinstance(name, str):
            problems += [(f"{where}.env[{index}].name", invalid(name, message)) for message in env_name(name)]
    return problems


def _mounts(where: str, mounts: Any, volumes: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    paths: set[str] = set()
    for index, mount in items(mounts):
        at = f"{where}.volumeMounts[{index}]"
        name, path = mount.get("name"), mount.get("mountPath")
        if name == "":
            problems.append((f"{at}.name", required(hint="the name of a volume of spec.volumes")))
        if isinstance(name, str) and name not in volumes:
            declared = ", ".join(sorted(volumes)) or "none"
            problems.append((f"{at}.name", not_found(name, f"a volumeMount names a volume declared under the Pod's "
                                                           f"spec.volumes; declared: {declared}")))
        if path == "":
            problems.append((f"{at}.mountPath", required(hint="the folder inside the container, e.g. /logs")))
        elif isinstance(path, str):
            if path in paths:
                problems.append((f"{at}.mountPath", invalid(path, "must be unique",
                                                            "one container cannot mount two volumes at one path")))
            paths.add(path)
    return problems

