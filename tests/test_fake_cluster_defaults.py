"""The fake cluster's API defaults that kubectl describe shows: the QoS class and the probes' defaults.

The QoS rows are the cases of kubernetes pkg/apis/core/v1/helper/qos/qos_test.go (TestComputePodQOS, without
pod-level resources, which the labs do not use), as (requests, limits) per container; the last rows are the
defaulting of a request from its limit (pkg/apis/core/v1/defaults.go SetDefaults_Pod), which happens before.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster.defaults import probe_defaults, qos_class


def resources(cpu: str = "", memory: str = "") -> dict[str, str]:
    return {name: value for name, value in (("cpu", cpu), ("memory", memory)) if value}


def container(requests: dict[str, str], limits: dict[str, str]) -> dict[str, Any]:
    return {"name": "c", "resources": {"requests": requests, "limits": limits}}


G = container(resources("100m", "100Mi"), resources("100m", "100Mi"))
BE = container({}, {})
CASES = {
    "guaranteed": ([G], [], "Guaranteed"),
    "guaranteed-guaranteed": ([G, G], [], "Guaranteed"),
    "best-effort-best-effort": ([BE, BE], [], "BestEffort"),
    "best-effort": ([BE], [], "BestEffort"),
    "best-effort-burstable": ([BE, container(resources("1"), resources("2"))], [], "Burstable"),
    "best-effort-guaranteed": ([BE, container(resources("10m", "100Mi"), resources("10m", "100Mi"))], [],
                               "Burstable"),
    "burstable-cpu-guaranteed-memory": ([container(resources(memory="100Mi"), resources(memory="100Mi"))], [],
                                        "Burstable"),
    "burstable-no-limits": ([container(resources("100m", "100Mi"), {})], [], "Burstable"),
    "burstable-guaranteed": ([container(resources("1", "100Mi"), resources("2", "100Mi")), G], [], "Burstable"),
    "burstable-unbounded-but-requests-match-limits": (
        [container(resources("100m", "100Mi"), resources("200m", "200Mi")),
         container(resources("100m", "100Mi"), {})], [], "Burstable"),
    "burstable-1": ([container(resources("10m", "100Mi"), resources("100m", "200Mi"))], [], "Burstable"),
    "burstable-2": ([container(resources("0", "0"), resources("100m", "200Mi"))], [], "Burstable"),
    "best-effort-hugepages": ([container({**resources("0", "0"), "hugepages-2Mi": "1Gi"},
                                         {**resources("0", "0"), "hugepages-2Mi": "1Gi"})], [], "BestEffort"),
    "init-container": ([BE], [container(resources("10m", "100Mi"), resources("100m", "200Mi"))], "Burstable"),
    # defaulting first: a limit without its request requests the limit
    "limits-only": ([container({}, resources("500m", "128Mi"))], [], "Guaranteed"),
    "lab-1.2-reference": ([container(resources("100m", "64Mi"), resources("500m", "128Mi"))], [], "Burstable"),
}


@pytest.mark.parametrize("name", CASES)
def test_the_qos_class_is_the_api_servers(name: str) -> None:
    containers, inits, expected = CASES[name]
    assert qos_class({"containers": containers, "initContainers": inits}) == expected


def test_a_probe_gets_the_api_servers_defaults() -> None:
    spec = {"containers": [{"name": "nginx", "readinessProbe": {"httpGet": {"port": "http"}, "periodSeconds": 5},
                            "livenessProbe": {"tcpSocket": {"port": 80}, "failureThreshold": 1}}]}
    probe_defaults(spec)
    ready, live = spec["containers"][0]["readinessProbe"], spec["containers"][0]["livenessProbe"]
    assert ready == {"httpGet": {"port": "http", "path": "/", "scheme": "HTTP"}, "periodSeconds": 5,
                     "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
    assert live == {"tcpSocket": {"port": 80}, "failureThreshold": 1, "timeoutSeconds": 1, "periodSeconds": 10,
                    "successThreshold": 1}
