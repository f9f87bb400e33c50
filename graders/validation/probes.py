"""Probes and lifecycle hooks as the API server checks them (k8s.io/kubernetes
pkg/apis/core/validation/validation.go: validateProbe, validateLivenessProbe, validateReadinessProbe,
validateStartupProbe, validateHandler, validateHTTPGetAction, ValidatePortNumOrName, validateSleepAction).

Values the API server defaults before it validates are not errors here either
(pkg/apis/core/v1/defaults.go: a probe's timeoutSeconds, periodSeconds, successThreshold and
failureThreshold of 0 become 1, 10, 1 and 3; an httpGet path of "" becomes "/", a scheme of "" HTTP).
A named port is checked for its syntax only: the API server does not look it up among the container's
ports (a probe naming a port the container lacks fails at run time, in the kubelet).
"""

from __future__ import annotations

from typing import Any

from graders.validation.errors import Problem, is_number, forbidden, invalid, required, unsupported
from graders.validation.names import PORT_RANGE_MESSAGE, http_header_name, port_name

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
HOOK_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
SCHEMES = ("HTTP", "HTTPS")  # upstream lists the set sorted
_COUNTS = ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold")
PORT_HINT = "a port is a number such as 80, without quotes, or the name of one of the container's ports, such as http"


def probe(where: str, found: dict[str, Any], kind: str, grace: Any) -> list[Problem]:
    """One probe of a container; kind is livenessProbe, readinessProbe or startupProbe."""
    problems = handler(where, found, PROBE_HANDLERS, grace)
    for key in _COUNTS:
        value = found.get(key)
        if is_number(value) and value < 0:
            problems.append((f"{where}.{key}", invalid(value, "must be greater than or equal to 0",
                                                       f"{key} counts seconds or tries: 0 or more")))
    seconds = found.get("terminationGracePeriodSeconds")
    if is_number(seconds) and seconds <= 0:
        problems.append((f"{where}.terminationGracePeriodSeconds", invalid(seconds, "must be greater than 0")))
    success = found.get("successThreshold")
    if kind != "readinessProbe" and is_number(success) and success not in (0, 1):  # 0 is defaulted to 1
        problems.append((f"{where}.successThreshold", invalid(success, "must be 1", f"a {kind} succeeds after one "
                                                                                     f"success: leave it out")))
    if kind == "readinessProbe" and seconds is not None:
        problems.append((f"{where}.terminationGracePeriodSeconds",
                         invalid(seconds, "must not be set for readinessProbes",
                                 "the grace period after a failed probe applies to liveness and startup probes: "
                                 "remove it here, or set the Pod's spec.terminationGracePeriodSeconds")))
    return problems


def lifecycle(where: str, found: dict[str, Any], grace: Any) -> list[Problem]:
    problems: list[Problem] = []
    for hook in ("postStart", "preStop"):
        if isinstance(found.get(hook), dict):
            problems += handler(f"{where}.{hook}", found[hook], HOOK_HANDLERS, grace)
    return problems


def handler(where: str, found: dict[str, Any], kinds: tuple[str, ...], grace: Any) -> list[Problem]:
    """Exactly one way to probe (or to run a hook): the first one given is checked, each further one refused."""
    given = [kind for kind in kinds if found.get(kind) is not None]
    if not given:
        return [(where, required("must specify a handler type", f"give it one of {', '.join(kinds)}, e.g. "
                                                                f"httpGet: with path: / and port: 80"))]
    problems = [(f"{where}.{kind}", forbidden("may not specify more than 1 handler type",
                                              f"keep {given[0]} and remove {kind}")) for kind in given[1:]]
    kind, action = given[0], found[given[0]]
    action = action if isinstance(action, dict) else {}
    at = f"{where}.{kind}"
    if kind == "exec" and not action.get("command"):
        problems.append((f"{at}.command", required(hint="the command to run, e.g. [\"cat\", \"/tmp/ready\"]")))
    if kind in ("httpGet", "tcpSocket"):
        problems += port_number_or_name(f"{at}.port", action.get("port"))
    if kind == "grpc":
        problems += port_number_or_name(f"{at}.port", action.get("port"))
    if kind == "httpGet":
        scheme = action.get("scheme")
        if isinstance(scheme, str) and scheme and scheme not in SCHEMES:
            problems.append((f"{at}.scheme", unsupported(scheme, SCHEMES, "in capitals: HTTP or HTTPS")))
        for header in action.get("httpHeaders") or []:
            name = header.get("name") if isinstance(header, dict) else None
            if isinstance(name, str):
                problems += [(f"{at}.httpHeaders", invalid(name, message)) for message in http_header_name(name)]
    if kind == "sleep":
        seconds = action.get("seconds")
        if is_number(grace) and is_number(seconds) and not 0 <= seconds <= grace:
            # PodLifecycleSleepActionAllowZero is on by default since Kubernetes 1.33: 0 is allowed
            problems.append((f"{at}", invalid(seconds, f"must be non-negative and less than "
                                                       f"terminationGracePeriodSeconds ({grace})")))
    return problems


def port_number_or_name(where: str, port: Any) -> list[Problem]:
    if port is None:  # the schema reports a missing port
        return []
    if isinstance(port, str):
        return [(where, invalid(port, message, PORT_HINT)) for message in port_name(port)]
    if is_number(port) and not 1 <= port <= 65535:
        return [(where, invalid(port, PORT_RANGE_MESSAGE, PORT_HINT))]
    return []

