"""What the API server refuses in a Pod, checked offline (graders/validation/), and what it accepts.

Rows come from Kubernetes' own tests: each key names the upstream test and its case, in
k8s.io/kubernetes pkg/apis/core/validation/validation_test.go unless it names another file
(apimachinery's pkg/api/resource/quantity_test.go). Upstream feeds its validators internal objects;
a student's YAML reaches them through the v1 API, which first applies defaults
(pkg/apis/core/v1/defaults.go): where a case is only reachable without them (an empty protocol, an
httpGet without path), the row is in ACCEPTED_BY_DEFAULTS instead. A key without an upstream test
names the validation.go function whose rule it checks.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from graders import validation
from graders.manifests import load_submission
from graders.validation import quantity
from tests.cluster.validation import pod_errors

SUBMISSIONS = Path(__file__).parent / "submissions"
REFERENCE = SUBMISSIONS / "1.1" / "reference"
SIDECAR = yaml.safe_load((REFERENCE / "app-with-sidecar.yaml").read_text())
WEB = yaml.safe_load((SUBMISSIONS / "1.2" / "reference" / "web.yaml").read_text())
Change = Callable[[dict], Any]


def changed(change: Change, base: dict = SIDECAR) -> dict:
    pod = copy.deepcopy(base)
    change(pod)
    return pod


def app(pod: dict) -> dict:
    return pod["spec"]["containers"][0]


def init(pod: dict, **fields: Any) -> dict:
    """Give the Pod one init container with these fields; return it."""
    pod["spec"]["initContainers"] = [{"name": "setup", "image": "busybox:1.36", **fields}]
    return pod["spec"]["initContainers"][0]


def probe(pod: dict, kind: str = "livenessProbe", **fields: Any) -> None:
    app(pod)[kind] = {"tcpSocket": {"port": 80}, **fields}


def messages(pod: dict) -> list[str]:
    return [f"{where}: {message}" for where, message in validation.decode_problems(pod) + validation.problems(pod)]


def w(change: Change) -> tuple[Change, dict]:
    """A change to lab 1.2's reference (one container with resources, a probe, an init container)."""
    return change, WEB


NEGATIVE = {key: -1 for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                                "failureThreshold", "terminationGracePeriodSeconds")}
NONNEGATIVE = ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold")
FORBIDDEN_IN_INIT = "Forbidden: may not be set for init containers without restartPolicy=Always"

# upstream test/case -> (change to lab 1.1's sidecar Pod, or w(change) for lab 1.2's web; the words, with the path)
UPSTREAM_REFUSED: dict[str, tuple[Any, ...]] = {
    # -- TestValidateContainers, errorCases ----------------------------------------------------------------
    "TestValidateContainers/zero-length name": (lambda p: app(p).update(name=""), "spec.containers[0].name: Required"),
    "TestValidateContainers/zero-length-image": (lambda p: app(p).update(image=""),
                                                 "spec.containers[0].image: Required value"),
    "TestValidateContainers/name > 63 characters": (lambda p: app(p).update(name="a" * 64),
                                                    "spec.containers[0].name: Invalid value: \"" + "a" * 64 +
                                                    '": must be no more than 63 characters'),
    "TestValidateContainers/name not a DNS label": (lambda p: app(p).update(name="a.b.c"),
                                                    'spec.containers[0].name: Invalid value: "a.b.c": must not '
                                                    "contain dots"),
    "TestValidateContainers/name not unique": (lambda p: p["spec"]["containers"][1].update(name="app"),
                                               'spec.containers[1].name: Duplicate value: "app"'),
    "TestValidateContainers/host port not unique": (
        lambda p: [c.update(ports=[{"containerPort": 80 + i, "hostPort": 80}])
                   for i, c in enumerate(p["spec"]["containers"])],
        'spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"'),
    "TestValidateContainers/unknown volume name": (lambda p: app(p)["volumeMounts"][0].update(name="anything"),
                                                   'spec.containers[0].volumeMounts[0].name: Not found: "anything"'),
    "TestValidateContainers/invalid lifecycle, no exec command.": (
        lambda p: app(p).update(lifecycle={"preStop": {"exec": {}}}),
        "spec.containers[0].lifecycle.preStop.exec.command: Required value"),
    "TestValidateContainers/invalid lifecycle, zero tcp socket port.": (
        lambda p: app(p).update(lifecycle={"preStop": {"tcpSocket": {"port": 0}}}),
        "spec.containers[0].lifecycle.preStop.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, "
        "inclusive"),
    "TestValidateContainers/invalid lifecycle, no action.": (
        lambda p: app(p).update(lifecycle={"preStop": {}}),
        "spec.containers[0].lifecycle.preStop: Required value: must specify a handler type"),
    "TestValidateContainers/invalid readiness probe, terminationGracePeriodSeconds set.": (
        lambda p: probe(p, "readinessProbe", terminationGracePeriodSeconds=10),
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for "
        "readinessProbes"),
    "TestValidateContainers/invalid liveness probe, no tcp socket port.": (
        lambda p: app(p).update(livenessProbe={"tcpSocket": {"port": 0}}),
        "spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535"),
    "TestValidateContainers/invalid liveness probe, no action.": (
        lambda p: app(p).update(livenessProbe={"successThreshold": 1}),
        "spec.containers[0].livenessProbe: Required value: must specify a handler type"),
    "TestValidateContainers/invalid liveness probe, successThreshold != 1": (
        lambda p: probe(p, successThreshold=2),
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"),
    "TestValidateContainers/invalid startup probe, successThreshold != 1": (
        lambda p: probe(p, "startupProbe", successThreshold=2),
        "spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1"),
    **{f"TestValidateContainers/invalid {kind.removesuffix('Probe')} probe, negative numbers ({field})": (
        lambda p, kind=kind: probe(p, kind, **NEGATIVE),
        f"spec.containers[0].{kind}.{field}: Invalid value: -1: must be greater than or equal to 0")
       for kind in ("livenessProbe", "readinessProbe", "startupProbe") for field in NONNEGATIVE},
    **{f"TestValidateContainers/invalid {kind.removesuffix('Probe')} probe, negative numbers (grace period)": (
        lambda p, kind=kind: probe(p, kind, **NEGATIVE),
        f"spec.containers[0].{kind}.terminationGracePeriodSeconds: Invalid value: -1: must be greater than 0")
       for kind in ("livenessProbe", "readinessProbe", "startupProbe")},
    "TestValidateContainers/invalid message termination policy": (
        lambda p: app(p).update(terminationMessagePolicy="Unknown"),
        'spec.containers[0].terminationMessagePolicy: Unsupported value: "Unknown": supported values: "File", '
        '"FallbackToLogsOnError"'),
    "TestValidateContainers/invalid compute resource (standard name)": (
        lambda p: app(p).update(resources={"limits": {"disk": "10G"}}),
        'spec.containers[0].resources.limits[disk]: Invalid value: "disk": must be a standard resource type or '
        "fully qualified"),
    "TestValidateContainers/invalid compute resource (container's)": (
        lambda p: app(p).update(resources={"limits": {"disk": "10G"}}),
        'spec.containers[0].resources.limits[disk]: Invalid value: "disk": must be a standard resource for '
        "containers"),
    "TestValidateContainers/Resource CPU invalid": (
        lambda p: app(p).update(resources={"limits": {"cpu": "-10", "memory": "0"}}),
        'spec.containers[0].resources.limits[cpu]: Invalid value: "-10": must be greater than or equal to 0'),
    "TestValidateContainers/Resource Requests CPU invalid": (
        lambda p: app(p).update(resources={"requests": {"cpu": "-10", "memory": "0"}}),
        'spec.containers[0].resources.requests[cpu]: Invalid value: "-10": must be greater than or equal to 0'),
    "TestValidateContainers/Resource Memory invalid": (
        lambda p: app(p).update(resources={"limits": {"cpu": "0", "memory": "-10"}}),
        'spec.containers[0].resources.limits[memory]: Invalid value: "-10": must be greater than or equal to 0'),
    "TestValidateContainers/Request limit simple invalid": (
        lambda p: app(p).update(resources={"limits": {"cpu": "5", "memory": "3"},
                                           "requests": {"cpu": "6", "memory": "3"}}),
        'spec.containers[0].resources.requests: Invalid value: "6": must be less than or equal to cpu limit of 5'),
    "TestValidateContainers/Invalid storage limit request": (
        lambda p: app(p).update(resources={"limits": {"attachable-volumes-aws-ebs": 10}}),
        'spec.containers[0].resources.limits[attachable-volumes-aws-ebs]: Invalid value: '
        '"attachable-volumes-aws-ebs": must be a standard resource for containers'),
    "TestValidateContainers/Memory request limit multiple invalid": (
        lambda p: app(p).update(resources={"limits": {"cpu": "5", "memory": "3"},
                                           "requests": {"cpu": "5", "memory": "4"}}),
        'spec.containers[0].resources.requests: Invalid value: "4": must be less than or equal to memory limit '
        "of 3"),
    **{f"TestValidateContainers/Forbidden RestartPolicy: {policy or 'empty'}": (
        lambda p, policy=policy: app(p).update(restartPolicy=policy),
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers")
       for policy in ("Always", "OnFailure", "Never", "invalid", "")},
    # -- lab 1.2's resources, the issue's example -------------------------------------------------------------
    "TestValidateContainers/Memory request limit multiple invalid (lab 1.2's 256Mi over 128Mi)": w(
        lambda p: app(p)["resources"]["requests"].update(memory="256Mi")),
    # -- TestValidateInitContainers, errorCases ------------------------------------------------------------
    "TestValidateInitContainers/empty name": (lambda p: init(p, name=""),
                                              "spec.initContainers[0].name: Required value"),
    "TestValidateInitContainers/name collision with regular container": (
        lambda p: init(p, name="app"), 'spec.initContainers[0].name: Duplicate value: "app"'),
    "TestValidateInitContainers/invalid termination message policy": (
        lambda p: init(p, terminationMessagePolicy="Unknown"),
        'spec.initContainers[0].terminationMessagePolicy: Unsupported value: "Unknown"'),
    "TestValidateInitContainers/duplicate names": (
        lambda p: p["spec"].update(initContainers=[{"name": "init", "image": "busybox:1.36"}] * 2),
        'spec.initContainers[1].name: Duplicate value: "init"'),
    "TestValidateInitContainers/duplicate ports": (
        lambda p: init(p, ports=[{"containerPort": 8080, "hostPort": 8080}] * 2),
        'spec.initContainers[0].ports[1].hostPort: Duplicate value: "TCP//8080"'),
    **{f"TestValidateInitContainers/uses disallowed field: {field[0].upper() + field[1:]}": (
        lambda p, field=field: init(p, **{field: {"preStop": {"exec": {"command": ["ls"]}}} if field == "lifecycle"
                                        else {"tcpSocket": {"port": 80}}}),
        f"spec.initContainers[0].{field}: {FORBIDDEN_IN_INIT}")
       for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe")},
    **{f"TestValidateInitContainers/Not supported RestartPolicy: {policy or 'empty'}": (
        lambda p, policy=policy: init(p, restartPolicy=policy),
        f'spec.initContainers[0].restartPolicy: Unsupported value: "{policy}": supported values: "Always"')
       for policy in ("OnFailure", "Never", "invalid", "")},
    "TestValidateInitContainers/invalid startup probe in restartable container, successThreshold != 1": (
        lambda p: init(p, restartPolicy="Always", startupProbe={"tcpSocket": {"port": 80}, "successThreshold": 2}),
        "spec.initContainers[0].startupProbe.successThreshold: Invalid value: 2: must be 1"),
    "TestValidateInitContainers/invalid readiness probe, terminationGracePeriodSeconds set.": (
        lambda p: init(p, restartPolicy="Always", readinessProbe={"tcpSocket": {"port": 80},
                                                                  "terminationGracePeriodSeconds": 10}),
        "spec.initContainers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set"),
    "TestValidateInitContainers/invalid lifecycle, no action.": (
        lambda p: init(p, restartPolicy="Always", lifecycle={"preStop": {}}),
        "spec.initContainers[0].lifecycle.preStop: Required value: must specify a handler type"),
    # -- TestValidatePorts, errorCases ---------------------------------------------------------------------
    "TestValidatePorts/name > 15 characters": (lambda p: app(p)["ports"][0].update(name="a" * 16),
                                               "ports[0].name: Invalid value: \"" + "a" * 16 +
                                               '": must be no more than 15 characters'),
    "TestValidatePorts/name contains invalid characters": (
        lambda p: app(p)["ports"][0].update(name="a.b.c"),
        'ports[0].name: Invalid value: "a.b.c": must contain only alpha-numeric characters (a-z, 0-9), and hyphens'),
    "TestValidatePorts/name is a number": (lambda p: app(p)["ports"][0].update(name="80"),
                                           'ports[0].name: Invalid value: "80": must contain at least one letter'),
    "TestValidatePorts/name not unique": (
        lambda p: app(p).update(ports=[{"name": "abc", "containerPort": 80}, {"name": "abc", "containerPort": 81}]),
        'spec.containers[0].ports[1].name: Duplicate value: "abc"'),
    "TestValidatePorts/zero container port": (lambda p: app(p)["ports"][0].update(containerPort=0),
                                              "spec.containers[0].ports[0].containerPort: Required value"),
    "TestValidatePorts/invalid container port": (
        lambda p: app(p)["ports"][0].update(containerPort=65536),
        "spec.containers[0].ports[0].containerPort: Invalid value: 65536: must be between 1 and 65535, inclusive"),
    "TestValidatePorts/invalid host port": (
        lambda p: app(p)["ports"][0].update(hostPort=65536),
        "spec.containers[0].ports[0].hostPort: Invalid value: 65536: must be between 1 and 65535"),
    "TestValidatePorts/invalid protocol case": (
        lambda p: app(p)["ports"][0].update(protocol="tcp"),
        'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'),
    "TestValidatePorts/invalid protocol": (
        lambda p: app(p)["ports"][0].update(protocol="ICMP"),
        'ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
    # -- TestValidateEnv, TestRelaxedValidateEnvFrom (the same relaxed rule for names) --------------------------
    "TestValidateEnv/zero-length name": (lambda p: app(p).update(env=[{"name": ""}]),
                                         "spec.containers[0].env[0].name: Required value"),
    "TestRelaxedValidateEnvFrom/invalid prefix (the rule of env names)": (
        lambda p: app(p).update(env=[{"name": "=abc", "value": "1"}]),
        "env[0].name: Invalid value: \"=abc\": a valid environment variable name must consist only of printable "
        "ASCII characters other than '='"),
    # -- TestValidateVolumeMounts, errorCases --------------------------------------------------------------
    "TestValidateVolumeMounts/empty name": (lambda p: app(p)["volumeMounts"][0].update(name=""),
                                            "spec.containers[0].volumeMounts[0].name: Required value"),
    "TestValidateVolumeMounts/name not found": (lambda p: app(p)["volumeMounts"][0].update(name=""),
                                                'spec.containers[0].volumeMounts[0].name: Not found: ""'),
    "TestValidateVolumeMounts/empty mountpath": (lambda p: app(p)["volumeMounts"][0].update(mountPath=""),
                                                 "spec.containers[0].volumeMounts[0].mountPath: Required value"),
    "TestValidateVolumeMounts/mountpath collision": (
        lambda p: app(p)["volumeMounts"].append({"name": "logs", "mountPath": "/var/log/nginx"}),
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/var/log/nginx": must be unique'),
    # -- TestValidateProbe, Test_validateProbe, errorCases -----------------------------------------------------
    "TestValidateProbe/no handler": (lambda p: app(p).update(livenessProbe={"timeoutSeconds": 10,
                                                                            "initialDelaySeconds": 10}),
                                     "livenessProbe: Required value: must specify a handler type"),
    **{f"TestValidateProbe/{field} -10": (
        lambda p, field=field: app(p).update(readinessProbe={"exec": {"command": ["echo"]}, field: -10}),
        f"spec.containers[0].readinessProbe.{field}: Invalid value: -10: must be greater than or equal to 0")
       for field in NONNEGATIVE},
    "Test_validateProbe/terminationGracePeriodSeconds 0": (
        lambda p: app(p).update(livenessProbe={"exec": {"command": ["echo"]}, "terminationGracePeriodSeconds": 0}),
        "livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0"),
    # -- TestValidateHandler, errorCases -------------------------------------------------------------------
    "TestValidateHandler/empty handler": (lambda p: app(p).update(readinessProbe={}),
                                          "readinessProbe: Required value: must specify a handler type"),
    "TestValidateHandler/exec without command": (
        lambda p: app(p).update(readinessProbe={"exec": {"command": []}}),
        "spec.containers[0].readinessProbe.exec.command: Required value"),
    "TestValidateHandler/httpGet port 0": (
        lambda p: app(p).update(readinessProbe={"httpGet": {"path": "", "port": 0}}),
        "readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"),
    "TestValidateHandler/httpGet port 65536": (
        lambda p: app(p).update(readinessProbe={"httpGet": {"path": "/foo", "port": 65536}}),
        "readinessProbe.httpGet.port: Invalid value: 65536: must be between 1 and 65535, inclusive"),
    "TestValidateHandler/httpGet port name empty": (
        lambda p: app(p).update(readinessProbe={"httpGet": {"path": "", "port": ""}}),
        'readinessProbe.httpGet.port: Invalid value: "": must contain at least one letter (a-z)'),
    "TestValidateHandler/httpGet header Host:": (
        lambda p: app(p).update(readinessProbe={"httpGet": {"path": "/", "port": "port",
                                                            "httpHeaders": [{"name": "Host:", "value": "x"}]}}),
        'readinessProbe.httpGet.httpHeaders: Invalid value: "Host:": a valid HTTP header must consist of '
        "alphanumeric characters or '-'"),
    "TestValidateHandler/httpGet header X_Forwarded_For": (
        lambda p: app(p).update(readinessProbe={"httpGet": {"path": "/", "port": "port",
                                                            "httpHeaders": [{"name": "X_Forwarded_For",
                                                                             "value": "x"}]}}),
        'readinessProbe.httpGet.httpHeaders: Invalid value: "X_Forwarded_For"'),
    "validateHandler/two handlers (may not specify more than 1 handler type)": w(
        lambda p: app(p)["readinessProbe"].update(tcpSocket={"port": 80})),
    "validateHTTPGetAction/scheme in lower case (TestValidateContainers/invalid lifecycle, no http scheme.)": w(
        lambda p: app(p)["readinessProbe"]["httpGet"].update(scheme="https")),
    "ValidatePortNumOrName/a quoted probe port is a port name, and needs a letter": w(
        lambda p: app(p)["readinessProbe"]["httpGet"].update(port="80")),
    # -- validatePullPolicy (TestValidatePullPolicy has success cases only) -------------------------------------
    "validatePullPolicy/lower case": (lambda p: app(p).update(imagePullPolicy="always"),
                                      'spec.containers[0].imagePullPolicy: Unsupported value: "always": supported '
                                      'values: "Always", "IfNotPresent", "Never"'),
    # -- TestValidateRestartPolicy, TestValidateDNSPolicy, errorCases ---------------------------------------------
    "TestValidateRestartPolicy/newpolicy": (lambda p: p["spec"].update(restartPolicy="newpolicy"),
                                            'spec.restartPolicy: Unsupported value: "newpolicy": supported values: '
                                            '"Always", "OnFailure", "Never"'),
    "TestValidateRestartPolicy/newpolicy (the issue's Sometimes)": w(
        lambda p: p["spec"].update(restartPolicy="Sometimes")),
    "TestValidateDNSPolicy/invalid": (lambda p: p["spec"].update(dnsPolicy="invalid"),
                                      'spec.dnsPolicy: Unsupported value: "invalid": supported values: '
                                      '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'),
    # -- TestValidatePodSpec, failureCases ---------------------------------------------------------------------
    "TestValidatePodSpec/bad volume": (lambda p: p["spec"]["volumes"][0].update(name=""),
                                       "spec.volumes[0].name: Required value"),
    "TestValidatePodSpec/bad init container": (lambda p: init(p, name="", image=""),
                                               "spec.initContainers[0].image: Required value"),
    "TestValidatePodSpec/bad DNS policy": (lambda p: p["spec"].update(dnsPolicy="invalid"),
                                           'spec.dnsPolicy: Unsupported value: "invalid"'),
    "TestValidatePodSpec/bad service account name": (lambda p: p["spec"].update(serviceAccountName="invalidName"),
                                                     'spec.serviceAccountName: Invalid value: "invalidName": a '
                                                     "lowercase RFC 1123 subdomain"),
    "TestValidatePodSpec/bad restart policy": (lambda p: p["spec"].update(restartPolicy="UnknowPolicy"),
                                               'spec.restartPolicy: Unsupported value: "UnknowPolicy"'),
    "TestValidatePodSpec/bad runAsUser large than math.MaxInt32": (
        lambda p: p["spec"].update(securityContext={"runAsUser": 2147483648}),
        "spec.securityContext.runAsUser: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive"),
    "TestValidatePodSpec/bad runAsUser less than 0": (
        lambda p: p["spec"].update(securityContext={"runAsUser": -1}),
        "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"),
    "TestValidatePodSpec/bad fsGroup less than 0": (lambda p: p["spec"].update(securityContext={"fsGroup": -1}),
                                                    "spec.securityContext.fsGroup: Invalid value: -1"),
    "TestValidatePodSpec/bad supplementalGroups less than 0": (
        lambda p: p["spec"].update(securityContext={"supplementalGroups": [-1, 1234]}),
        "spec.securityContext.supplementalGroups[0]: Invalid value: -1"),
    "TestValidatePodSpec/bad-active-deadline-seconds": (
        lambda p: p["spec"].update(activeDeadlineSeconds=0),
        "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"),
    "TestValidatePodSpec/active-deadline-seconds-too-large": (
        lambda p: p["spec"].update(activeDeadlineSeconds=2147483648),
        "spec.activeDeadlineSeconds: Invalid value: 2147483648"),
    "TestValidatePodSpec/bad nodeName": (lambda p: p["spec"].update(nodeName="node name"),
                                         'spec.nodeName: Invalid value: "node name"'),
    "TestValidatePodSpec/bad PriorityClassName": (lambda p: p["spec"].update(priorityClassName="InvalidName"),
                                                  'spec.priorityClassName: Invalid value: "InvalidName"'),
    "TestValidatePodSpec/bad RuntimeClassName": (lambda p: p["spec"].update(runtimeClassName="invalid/sandbox"),
                                                 'spec.runtimeClassName: Invalid value: "invalid/sandbox"'),
    "TestValidatePodSpec/bad invalid fsgroupchangepolicy": (
        lambda p: p["spec"].update(securityContext={"fsGroupChangePolicy": "invalid"}),
        'spec.securityContext.fsGroupChangePolicy: Unsupported value: "invalid": supported values: "Always", '
        '"OnRootMismatch"'),
    "TestValidatePodSpec/bad empty fsGroupchangepolicy": (
        lambda p: p["spec"].update(securityContext={"fsGroupChangePolicy": ""}),
        'spec.securityContext.fsGroupChangePolicy: Unsupported value: ""'),
    # -- TestValidatePod, errorCases -----------------------------------------------------------------------
    "TestValidatePod/image whitespace": (lambda p: app(p).update(image=" "),
                                         'spec.containers[0].image: Invalid value: " ": must not have leading or '
                                         "trailing whitespace"),
    "TestValidatePod/image leading and trailing whitespace": (
        lambda p: app(p).update(image=" nginx:1.25 "),
        'spec.containers[0].image: Invalid value: " nginx:1.25 ": must not have leading or trailing whitespace'),
    "TestValidatePod/bad label": (lambda p: p["metadata"].update(labels={"NoUppercaseOrSpecialCharsLike=Equals": "b"}),
                                  'metadata.labels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals": name '
                                  "part must consist of alphanumeric characters"),
    # -- validation.go rules without an upstream errorCase of their own ---------------------------------------------
    "ValidatePodCreate/ephemeral containers cannot be set on create": (
        lambda p: p["spec"].update(ephemeralContainers=[{"name": "debug", "image": "busybox:1.36"}]),
        "spec.ephemeralContainers: Forbidden: cannot be set on create"),
    "validateVolumeSource/two sources": (lambda p: p["spec"]["volumes"][0].update(hostPath={"path": "/tmp"}),
                                         "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume "
                                         "type"),
    "validateVolumeSource/negative emptyDir sizeLimit": (
        lambda p: p["spec"]["volumes"][0].update(emptyDir={"sizeLimit": "-1Mi"}),
        "spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity"),
    "ValidateVolumes/a mount of an invalid volume is a mount of none": (
        lambda p: [p["spec"]["volumes"][0].update(name="Logs"), [c["volumeMounts"][0].update(name="Logs")
                                                                 for c in p["spec"]["containers"]]],
        'spec.containers[0].volumeMounts[0].name: Not found: "Logs"'),
    "ValidatePodSpec/nodeSelector is labels": (lambda p: p["spec"].update(nodeSelector={"disk type": "ssd"}),
                                               'spec.nodeSelector: Invalid value: "disk type": name part must'),
    "ValidatePodSpec/hostname is a DNS label": (lambda p: p["spec"].update(hostname="my_host"),
                                                'spec.hostname: Invalid value: "my_host": a lowercase RFC 1123 label'),
    "validateSeccompProfileType/unsupported": (
        lambda p: p["spec"].update(securityContext={"seccompProfile": {"type": "Default"}}),
        'spec.securityContext.seccompProfile.type: Unsupported value: "Default": supported values: "Localhost", '
        '"RuntimeDefault", "Unconfined"'),
    "validateResourceRequirements/non-overcommitable resource without a limit": (
        lambda p: app(p).update(resources={"requests": {"example.com/gpu": "1"}}),
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"),
    "validateResourceRequirements/non-overcommitable request not its limit": (
        lambda p: app(p).update(resources={"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}}),
        'spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2'),
    "ValidateResourceQuantityValue/an extended resource counts whole units": (
        lambda p: app(p).update(resources={"limits": {"example.com/gpu": "500m"}}),
        'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "500m": must be an integer'),
    "ValidateAnnotations/a key is a qualified name": (
        lambda p: p["metadata"].update(annotations={"my note": "x"}),
        'metadata.annotations: Invalid value: "my note": name part must consist of alphanumeric characters'),
    "quantity_test.go TestQuantityParse/invalid 0.1mi (a suffix is case-sensitive)": (
        lambda p: app(p).update(resources={"limits": {"memory": "0.1mi"}}),
        "spec.containers[0].resources.limits.memory: unable to parse quantity's suffix"),
    "quantity_test.go TestQuantityParse/invalid 1.1.M": (
        lambda p: app(p).update(resources={"limits": {"memory": "1.1.M"}}),
        "spec.containers[0].resources.limits.memory: quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    "quantity_test.go TestQuantityParse/invalid aoeu (cpu: 5x)": w(
        lambda p: app(p)["resources"]["limits"].update(cpu="5x")),
}
# The words of the rows changed on lab 1.2's web Pod (w(...)), by key.
WEB_WORDS = {
    "TestValidateContainers/Memory request limit multiple invalid (lab 1.2's 256Mi over 128Mi)":
        'spec.containers[0].resources.requests: Invalid value: "256Mi": must be less than or equal to memory limit '
        "of 128Mi (requests.memory: 256Mi is more than its limit 128Mi",
    "validateHandler/two handlers (may not specify more than 1 handler type)":
        "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
    "validateHTTPGetAction/scheme in lower case (TestValidateContainers/invalid lifecycle, no http scheme.)":
        'spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "https": supported values: "HTTP", '
        '"HTTPS"',
    "ValidatePortNumOrName/a quoted probe port is a port name, and needs a letter":
        'spec.containers[0].readinessProbe.httpGet.port: Invalid value: "80": must contain at least one letter '
        "(a-z) (a port is a number such as 80, without quotes",
    "TestValidateRestartPolicy/newpolicy (the issue's Sometimes)":
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    "quantity_test.go TestQuantityParse/invalid aoeu (cpu: 5x)":
        "spec.containers[0].resources.limits.cpu: quantities must match the regular expression",
}


def _case(key: str) -> tuple[dict, str]:
    row = UPSTREAM_REFUSED[key]
    if len(row) == 2 and isinstance(row[1], dict):  # w(change): lab 1.2's web
        return changed(row[0], row[1]), WEB_WORDS[key]
    return changed(row[0]), row[1]


@pytest.mark.parametrize("case", sorted(UPSTREAM_REFUSED))
def test_refused_as_the_api_server_refuses_it(case: str) -> None:
    pod, expected = _case(case)
    found = messages(pod)
    assert any(expected in message for message in found), found


# Kept from before the upstream rows: the API server's words for what a beginner writes, with hints.
REFUSED = {
    "pod name with capitals": (lambda p: p["metadata"].update(name="App-With-Sidecar"),
                               'metadata.name: Invalid value: "App-With-Sidecar": a lowercase RFC 1123 subdomain'),
    "container name with underscore": (lambda p: app(p).update(name="my_app"),
                                       'spec.containers[0].name: Invalid value: "my_app": a lowercase RFC 1123 label'),
    "volume name with a slash": (lambda p: p["spec"]["volumes"][0].update(name="/etc"),
                                 'spec.volumes[0].name: Invalid value: "/etc": a lowercase RFC 1123 label'),
    "volume name with dots": (lambda p: p["spec"]["volumes"][0].update(name=".."),
                              'spec.volumes[0].name: Invalid value: "..": a lowercase RFC 1123 label'),
    "duplicate volume": (lambda p: p["spec"]["volumes"].append({"name": "logs", "emptyDir": {}}),
                         'spec.volumes[1].name: Duplicate value: "logs"'),
    "containerPort negative": (lambda p: app(p)["ports"][0].update(containerPort=-80),
                               "containerPort: Invalid value: -80: must be between 1 and 65535"),
    "port name with capitals": (lambda p: app(p)["ports"][0].update(name="HTTP"),
                                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    "port name with double hyphen": (lambda p: app(p)["ports"][0].update(name="web--http"),
                                     "must not contain consecutive hyphens"),
    "port name ending in hyphen": (lambda p: app(p)["ports"][0].update(name="http-"),
                                   "must not begin or end with a hyphen"),
    "env name with a newline": (lambda p: app(p).update(env=[{"name": "A\nB", "value": "1"}]),
                                "printable ASCII characters other than '='"),
    "label value with a space": (lambda p: p["metadata"].update(labels={"app": "hello world"}),
                                 'metadata.labels.app: Invalid value: "hello world": a valid label must be an empty '
                                 "string or consist of alphanumeric characters"),
    "label value too long": (lambda p: p["metadata"].update(labels={"app": "a" * 64}),
                             "must be no more than 63 characters"),
    "label key with a bad prefix": (lambda p: p["metadata"].update(labels={"Example.com/app": "x"}),
                                    "prefix part a lowercase RFC 1123 subdomain"),
    "label key with an empty prefix": (lambda p: p["metadata"].update(labels={"/app": "x"}),
                                       "prefix part must be non-empty"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_the_api_servers_words_and_the_field_path(case: str) -> None:
    change, expected = REFUSED[case]
    found = messages(changed(change))
    assert any(expected in message for message in found), found


# upstream test/case -> a change the API server accepts (successCases), so the checker never refuses it
UPSTREAM_ACCEPTED: dict[str, Change] = {
    "the reference": lambda p: None,
    "TestValidateContainers/successCase 123 (a name of digits)": lambda p: app(p).update(name="123"),
    "TestValidateContainers/successCase life-123 (a preStop exec hook)": lambda p: app(p).update(
        lifecycle={"preStop": {"exec": {"command": ["ls", "-l"]}}}),
    "TestValidateContainers/successCase resources-test-with-request-and-limit": lambda p: app(p).update(
        resources={"requests": {"cpu": "10", "memory": "10G"}, "limits": {"cpu": "10", "memory": "10G"}}),
    "TestValidateContainers/successCase resources-request-limit-simple": lambda p: app(p).update(
        resources={"requests": {"cpu": "8"}, "limits": {"cpu": "10"}}),
    "TestValidateContainers/successCase resources-request-limit-edge (an extended resource, equal)":
        lambda p: app(p).update(resources={"requests": {"cpu": "10", "my.org/resource": "10"},
                                           "limits": {"cpu": "10", "my.org/resource": "10"}}),
    "TestValidateContainers/successCase resources-request-limit-partials": lambda p: app(p).update(
        resources={"requests": {"cpu": "9.5", "memory": "10G"}, "limits": {"cpu": "10", "my.org/resource": "10"}}),
    "TestValidateContainers/successCase resources-request (requests only)": lambda p: app(p).update(
        resources={"requests": {"cpu": "9.5", "memory": "10G"}}),
    "TestValidateContainers/successCase fallback-to-logs-termination-message": lambda p: app(p).update(
        terminationMessagePolicy="FallbackToLogsOnError"),
    "TestValidateContainers/successCase live-123 and startup-123": lambda p: app(p).update(
        livenessProbe={"tcpSocket": {"port": 80}, "successThreshold": 1},
        startupProbe={"tcpSocket": {"port": 80}, "successThreshold": 1}),
    "TestValidateInitContainers/successCase container-3-restart-always-with-lifecycle-hook-and-probes":
        lambda p: init(p, restartPolicy="Always", lifecycle={"postStart": {"exec": {"command": ["echo", "hi"]}}},
                       livenessProbe={"tcpSocket": {"port": 80}, "successThreshold": 1},
                       readinessProbe={"tcpSocket": {"port": 80}}, startupProbe={"tcpSocket": {"port": 80}}),
    "TestValidatePorts/successCase (names, protocols)": lambda p: app(p).update(ports=[
        {"name": "abc", "containerPort": 80, "protocol": "TCP"}, {"name": "easy", "containerPort": 82},
        {"name": "as", "containerPort": 83, "protocol": "UDP"}, {"name": "do-re-me", "containerPort": 84,
                                                                 "protocol": "SCTP"}]),
    "TestValidateEnv/successCase": lambda p: app(p).update(env=[{"name": n, "value": "value"} for n in
                                                                ("abc", "ABC", "AbC_123", "a.b.c", "a-b-c")]
                                                           + [{"name": "empty", "value": ""}]),
    "TestRelaxedValidateEnv/successCase (Kubernetes 1.34+)": lambda p: app(p).update(
        env=[{"name": n, "value": "v"} for n in ("!\"#$%&'()", "* +,-./0123456789", ":;<>?@", "[\\]^_`{}|~")]),
    "TestValidateVolumeMounts/successCase (Windows paths)": lambda p: app(p).update(volumeMounts=[
        {"name": "logs", "mountPath": "d:"}, {"name": "logs", "mountPath": "G:\\mount"}]),
    "TestValidateProbe/successCases (each count 10)": lambda p: app(p).update(readinessProbe={
        "exec": {"command": ["echo"]}, **{field: 10 for field in NONNEGATIVE}}),
    "Test_validateProbe/terminationGracePeriodSeconds 1": lambda p: app(p).update(
        livenessProbe={"exec": {"command": ["echo"]}, "terminationGracePeriodSeconds": 1}),
    "TestValidateHandler/successCases (ports 1 and 65535, a port name, headers)": lambda p: app(p).update(
        livenessProbe={"httpGet": {"path": "/", "port": 1, "scheme": "HTTP"}},
        readinessProbe={"httpGet": {"path": "/foo", "port": "port", "httpHeaders": [
            {"name": "Host", "value": "foo.example.com"}, {"name": "X-Forwarded-For", "value": "1.2.3.4"}]}},
        startupProbe={"httpGet": {"path": "/", "port": 65535}}),
    "TestValidatePullPolicy/Always1, Never1": lambda p: [
        c.update(imagePullPolicy=policy)
        for c, policy in zip(p["spec"]["containers"], ("Always", "Never"), strict=True)],
    "TestValidateRestartPolicy/successCases": lambda p: p["spec"].update(restartPolicy="OnFailure"),
    "TestValidateDNSPolicy/successCases": lambda p: p["spec"].update(dnsPolicy="ClusterFirstWithHostNet"),
    "TestValidatePodSpec/populate all fields": lambda p: p["spec"].update(
        initContainers=[{"name": "ictr", "image": "busybox:1.36"}], nodeSelector={"key": "value"},
        nodeName="foobar", activeDeadlineSeconds=2147483647, serviceAccountName="acct"),
    "TestValidatePodSpec/RunAsUser SupplementalGroups FSGroup with minID 0 and maxID": lambda p: p["spec"].update(
        securityContext={"runAsUser": 0, "fsGroup": 2147483647, "supplementalGroups": [0, 2147483647]}),
    "TestValidatePod/just about everything (a name with dots and digits)": lambda p: p["metadata"].update(
        name="abc.123.do-re-mi"),
    "quantity_test.go TestQuantityParse (suffixes, exponents, bare numbers)": lambda p: app(p).update(resources={
        "requests": {"cpu": "0.5", "memory": "1e3"}, "limits": {"cpu": 1, "memory": "8Ki"}}),
    # a probe's named port is syntax-checked only: the kubelet, not the API server, looks it up (probes.py)
    "ValidatePortNumOrName/a probe naming a port the container lacks": lambda p: app(p).update(
        readinessProbe={"httpGet": {"path": "/", "port": "metrics"}}),
    "kept: labels with a prefix, dots, an empty value": lambda p: p["metadata"].update(
        labels={"app.kubernetes.io/name": "web.v1_2", "tier": ""}),
    "kept: port name and hostPort at the limits": lambda p: app(p)["ports"][0].update(name="a23456789012345",
                                                                                      hostPort=65535),
}
# What upstream refuses only without the v1 defaults (pkg/apis/core/v1/defaults.go): a student's "" or
# missing value is filled in before validation.
ACCEPTED_BY_DEFAULTS: dict[str, Change] = {
    "TestValidatePorts/protocol required (SetDefaults: TCP)": lambda p: app(p)["ports"][0].update(protocol=""),
    "TestValidateContainers/empty message termination policy (SetDefaults_Container: File)":
        lambda p: app(p).update(terminationMessagePolicy=""),
    "TestValidateContainers/invalid lifecycle, no http path. (SetDefaults_HTTPGetAction: /)":
        lambda p: app(p).update(lifecycle={"preStop": {"httpGet": {"path": "", "port": 80}}}),
    "TestValidateContainers/invalid lifecycle, no http scheme. (SetDefaults_HTTPGetAction: HTTP)":
        lambda p: app(p).update(readinessProbe={"httpGet": {"port": 80, "scheme": ""}}),
    "TestValidateRestartPolicy/empty (SetDefaults_PodSpec: Always)": lambda p: p["spec"].update(restartPolicy=""),
    "TestValidateDNSPolicy/empty (SetDefaults_PodSpec: ClusterFirst)": lambda p: p["spec"].update(dnsPolicy=""),
    "validatePullPolicy/empty (SetDefaults_Container)": lambda p: app(p).update(imagePullPolicy=""),
    "validateLivenessProbe/successThreshold 0 (SetDefaults_Probe: 1)": lambda p: probe(p, successThreshold=0),
    "SetDefaults_Pod/requests default to limits": lambda p: app(p).update(resources={"limits": {"cpu": "500m"}}),
    "SetDefaults_ResourceList/rounded up to milli: 100u and 200u of CPU are both 1m": lambda p: app(p).update(
        resources={"requests": {"cpu": "200u"}, "limits": {"cpu": "100u"}}),
}


@pytest.mark.parametrize("case", sorted(UPSTREAM_ACCEPTED) + sorted(ACCEPTED_BY_DEFAULTS))
def test_accepted_as_the_api_server_accepts_it(case: str) -> None:
    change = UPSTREAM_ACCEPTED.get(case) or ACCEPTED_BY_DEFAULTS[case]
    assert messages(changed(change)) == []


@pytest.mark.parametrize(("text", "printed"), [
    # quantity_test.go TestQuantityParseEmit, and the canonical forms the messages print
    ("1Ki", "1Ki"), ("1024Mi", "1Gi"), ("1000M", "1G"), (".001Ki", "1024m"), (".000000000001Ki", "2n"),
    ("-1024Mi", "-1Gi"), ("256Mi", "256Mi"), ("0.5", "500m"), ("1000m", "1"), ("1.5Gi", "1536Mi"), ("1e3", "1e3"),
    (0.5, "500m"), (134217728, "134217728"), ("64m", "64m"),
])
def test_a_quantity_prints_as_the_api_server_prints_it(text: Any, printed: str) -> None:
    assert quantity.parse(text).text == printed


@pytest.mark.parametrize("text", ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
                                  "", "128MB", True])
def test_what_is_no_quantity_is_refused(text: Any) -> None:  # quantity_test.go TestQuantityParse, invalid
    with pytest.raises(quantity.QuantityError):
        quantity.parse(text)


@pytest.mark.parametrize("junk", [None, "x", 3, ["a"], {"name": ["not", "a", "string"]}])
def test_odd_shapes_in_lists_are_left_to_the_schema_not_a_crash(junk) -> None:
    pod = changed(lambda p: [p["spec"][key].append(junk) for key in ("containers", "volumes")])
    pod["spec"]["containers"][0]["volumeMounts"].append(junk)
    assert isinstance(validation.problems(pod), list)
    assert isinstance(validation.decode_problems(pod), list)


# The fake cluster (tests/cluster/validation.py) is an independent model of the same API server: where it
# models a rule, it refuses the same Pod on the same field in the same words.
MODELLED_BY_THE_FAKE = [
    "TestValidateContainers/name not unique", "TestValidateContainers/unknown volume name",
    "TestValidateContainers/zero-length-image", "TestValidatePorts/invalid container port",
    "TestValidatePorts/invalid protocol case", "TestValidateRestartPolicy/newpolicy",
    "TestValidateContainers/Request limit simple invalid", "TestValidateVolumeMounts/mountpath collision",
    "validatePullPolicy/lower case", "TestValidateHandler/httpGet port 65536",
    "TestValidateContainers/invalid liveness probe, no action.", "TestValidateDNSPolicy/invalid",
    "TestValidateContainers/invalid message termination policy",
    "TestValidateContainers/Memory request limit multiple invalid (lab 1.2's 256Mi over 128Mi)",
    "validateHandler/two handlers (may not specify more than 1 handler type)",
    "TestValidateRestartPolicy/newpolicy (the issue's Sometimes)",
]


@pytest.mark.parametrize("case", MODELLED_BY_THE_FAKE)
def test_the_fake_cluster_refuses_the_same_pods_in_the_same_words(case: str) -> None:
    pod, expected = _case(case)
    fake = [f"{cause['field']}: {cause['message']}" for cause in pod_errors(pod)]
    ours = [line for line in messages(pod) if expected in line]
    assert ours, messages(pod)
    api_words = expected.split(" (")[0]  # the API server's part, without the grader's hint
    assert any(api_words in line for line in fake), (api_words, fake)


def test_a_refused_pod_fails_manifests_and_is_not_applied(tmp_path: Path) -> None:
    (tmp_path / "my-first-pod.yaml").write_text((REFERENCE / "my-first-pod.yaml").read_text())
    (tmp_path / "app-with-sidecar.yaml").write_text(
        (REFERENCE / "app-with-sidecar.yaml").read_text().replace("name: log-shipper", "name: app"))
    submission = load_submission(tmp_path, ["my-first-pod", "app-with-sidecar"])
    assert list(submission.pods) == ["my-first-pod"]
    assert [str(p) for p in submission.problems] == [
        'app-with-sidecar.yaml: spec.containers[1].name: Duplicate value: "app" (each container of a Pod, '
        'init containers included, needs a name of its own)']
    assert "app-with-sidecar.yaml has problems" in str(submission.why_not_gradable("app-with-sidecar"))


def test_validation_runs_on_schema_valid_pods_only(tmp_path: Path) -> None:
    """It reads values by the schema's types, so a schema error is reported alone; fixing it shows the rest."""
    pod = changed(lambda p: [app(p).update(nmae="x"), p["spec"]["containers"][1].update(name="app")])
    (tmp_path / "app-with-sidecar.yaml").write_text(yaml.safe_dump(pod))
    problems = [str(p) for p in load_submission(tmp_path, ["app-with-sidecar"]).problems]
    assert len(problems) == 1 and "spec.containers[0]: unknown field" in problems[0], problems
    del app(pod)["nmae"]
    (tmp_path / "app-with-sidecar.yaml").write_text(yaml.safe_dump(pod))
    problems = [str(p) for p in load_submission(tmp_path, ["app-with-sidecar"]).problems]
    assert len(problems) == 1 and 'Duplicate value: "app"' in problems[0], problems


def test_what_cannot_be_decoded_is_reported_before_what_is_invalid(tmp_path: Path) -> None:
    """The API server answers a quantity it cannot read with 400 and validates nothing: so does the grader."""
    pod = changed(lambda p: [app(p).update(resources={"limits": {"cpu": "5x"}}),
                             p["spec"]["containers"][1].update(name="app")])
    (tmp_path / "app-with-sidecar.yaml").write_text(yaml.safe_dump(pod))
    problems = [str(p) for p in load_submission(tmp_path, ["app-with-sidecar"]).problems]
    assert len(problems) == 1 and "limits.cpu: quantities must match" in problems[0], problems
