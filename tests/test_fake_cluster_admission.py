"""The fake cluster held to the real API server and kubelet (issue 19): each behaviour with the upstream
source it follows, through raw HTTP (what the server answers) and kube.py (what the grader reads)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any, Iterator

import pytest

from graders.backends.base import ApplyRejected
from graders.backends.kube import ClusterBackend, KubernetesSandbox, load_configuration
from graders.errors import InfraError
from tests.cluster.fixture import CONTEXT, FakeCluster, fake_cluster
from tests.test_fake_cluster_api import http, pod, wait_running

pytestmark = [pytest.mark.cluster, pytest.mark.podman]  # the fake cluster plays Pods with podman
NGINX = {"name": "nginx", "image": "nginx:1.25"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    with fake_cluster(tmp_path_factory.mktemp("fake-cluster"), "sa-delay:0") as running:
        yield running


@pytest.fixture
def sandbox(cluster: FakeCluster) -> Iterator[KubernetesSandbox]:
    backend = ClusterBackend(load_configuration(cluster.kubeconfig, CONTEXT), where="the fake cluster")
    opened = backend.open_sandbox("1.2", uuid.uuid4().hex[:8])
    yield opened
    opened.close()


def served(cluster: FakeCluster, ns: str, name: str) -> dict[str, Any]:
    status, body = http(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/{name}")
    assert status == 200, body
    return body


def test_every_quantity_is_served_as_a_string(cluster: FakeCluster, sandbox: KubernetesSandbox) -> None:
    """apimachinery's Quantity always marshals to a string (pkg/api/resource/quantity.go): a correct
    `sizeLimit: 67108864` crashed the grader's typed read-back when the fake served the number."""
    numeric = pod("numeric", {**NGINX, "resources": {"requests": {"cpu": 0.1, "memory": 33554432},
                                                     "limits": {"cpu": 1, "memory": 134217728}},
                              "volumeMounts": [{"name": "html", "mountPath": "/usr/share/nginx/html"}]},
                  volumes=[{"name": "html", "emptyDir": {"sizeLimit": 67108864}}], terminationGracePeriodSeconds=0)
    sandbox.apply(numeric, timeout=30)
    body = served(cluster, sandbox.namespace, "numeric")
    assert body["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "67108864"
    resources = body["spec"]["containers"][0]["resources"]
    assert resources["requests"] == {"cpu": "100m", "memory": "33554432", "ephemeral-storage": "64Mi"}
    assert resources["limits"] == {"cpu": "1", "memory": "134217728", "ephemeral-storage": "1Gi"}  # + the defaults
    state = sandbox.state("numeric")  # the typed read (pydantic models) that crashed
    assert state is not None and state.spec["volumes"][0]["emptyDir"]["sizeLimit"] == "67108864"


def test_a_limit_without_a_request_requests_the_limit(cluster: FakeCluster, sandbox: KubernetesSandbox) -> None:
    """pkg/apis/core/v1/defaults.go (SetDefaults_Pod) before LimitRanger's defaultRequest."""
    sandbox.apply(pod("limited", {**NGINX, "resources": {"limits": {"cpu": "200m"}}}, terminationGracePeriodSeconds=0),
                  timeout=30)
    resources = served(cluster, sandbox.namespace, "limited")["spec"]["containers"][0]["resources"]
    assert resources["requests"]["cpu"] == "200m" and resources["requests"]["memory"] == "32Mi"  # the run's default


def test_limit_ranger_refuses_above_max_and_never_lowers(cluster: FakeCluster, sandbox: KubernetesSandbox) -> None:
    status, body = http(cluster, "POST", f"/api/v1/namespaces/{sandbox.namespace}/pods",
                        pod("big", {**NGINX, "resources": {"limits": {"memory": "4Gi"}}}))
    assert status == 403, body
    assert body["message"] == 'pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 4Gi'
    with pytest.raises(ApplyRejected, match="maximum memory usage per Container is 1Gi"):  # the student's
        sandbox.apply(pod("big", {**NGINX, "resources": {"limits": {"memory": "4Gi"}}}), timeout=10)
    five = pod("five", {**NGINX, "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": 5}}},
               terminationGracePeriodSeconds=0)
    sandbox.apply(five, timeout=30)  # no CPU max in the run's LimitRange: lab 1.2's `cpu: 5` is admitted
    assert served(cluster, sandbox.namespace, "five")["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "5"


def test_resource_quota_counts_the_namespaces_pods(cluster: FakeCluster) -> None:
    ns = f"quota-{uuid.uuid4().hex[:6]}"
    assert http(cluster, "POST", "/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
    quota = {"metadata": {"name": "one"}, "spec": {"hard": {"pods": "1"}}}
    assert http(cluster, "POST", f"/api/v1/namespaces/{ns}/resourcequotas", quota)[0] == 201
    first = pod("first", {**NGINX}, terminationGracePeriodSeconds=0)
    assert http(cluster, "POST", f"/api/v1/namespaces/{ns}/pods", first)[0] == 201
    status, body = http(cluster, "POST", f"/api/v1/namespaces/{ns}/pods", pod("second", {**NGINX}))
    assert status == 403
    assert body["message"] == ('pods "second" is forbidden: exceeded quota: one, requested: pods=1, used: pods=1, '
                               "limited: pods=1")
    assert http(cluster, "DELETE", f"/api/v1/namespaces/{ns}")[0] == 200


def test_pod_security_baseline_refuses_in_its_own_words(cluster: FakeCluster, sandbox: KubernetesSandbox) -> None:
    """pod-security-admission: admission.go's `violates PodSecurity %q: %s`, check_privileged.go and
    check_hostPathVolumes.go; the run's namespace enforces baseline (kube.py, POD_SECURITY)."""
    bad = pod("bad", {**NGINX, "securityContext": {"privileged": True}},
              volumes=[{"name": "host", "hostPath": {"path": "/"}}])
    status, body = http(cluster, "POST", f"/api/v1/namespaces/{sandbox.namespace}/pods", bad)
    assert status == 403
    assert body["message"] == ('pods "bad" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes '
                               '(volume "host"), privileged (container "nginx" must not set '
                               "securityContext.privileged=true)")
    with pytest.raises(ApplyRejected, match='violates PodSecurity "baseline:latest"'):
        sandbox.apply(bad, timeout=10)


def test_init_containers_are_reported_as_the_kubelet_does(cluster: FakeCluster, sandbox: KubernetesSandbox) -> None:
    """initContainerStatuses; PodInitializing for the containers while an init container cannot start
    (pkg/kubelet/kubelet_pods.go, convertToAPIContainerStatuses)."""
    writer = {"name": "write-page", "image": "busybox:1.36", "command": ["sh", "-c", "echo hi > /work/index.html"],
              "volumeMounts": [{"name": "html", "mountPath": "/work"}]}
    nginx = {**NGINX, "volumeMounts": [{"name": "html", "mountPath": "/usr/share/nginx/html"}]}
    sandbox.apply(pod("web", nginx, initContainers=[writer], volumes=[{"name": "html", "emptyDir": {}}],
                      terminationGracePeriodSeconds=0), timeout=30)
    state = wait_running(sandbox, "web")
    [init] = state.init_containers
    assert (init.name, init.reason, init.exit_code) == ("write-page", "Completed", 0)
    body = served(cluster, sandbox.namespace, "web")
    assert body["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert {c["type"]: c["status"] for c in body["status"]["conditions"]}["Initialized"] == "True"
    sandbox.apply(pod("typo", nginx, initContainers=[{**writer, "image": "busybox:1.63"}],
                      volumes=[{"name": "html", "emptyDir": {}}], terminationGracePeriodSeconds=0), timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = sandbox.state("typo")
        if state and state.init_containers[0].reason in ("ErrImagePull", "ImagePullBackOff"):
            break
        time.sleep(0.3)
    assert state.init_containers[0].reason in ("ErrImagePull", "ImagePullBackOff"), state
    assert state.phase == "Pending" and state.containers[0].reason == "PodInitializing"


def test_native_sidecars_run_beside_the_containers(cluster: FakeCluster, sandbox: KubernetesSandbox) -> None:
    """Kubernetes 1.29+: an init container with restartPolicy: Always starts first and keeps running;
    it is reported in initContainerStatuses, started, and Ready once running (main refused it with 422)."""
    sidecar = {"name": "log-shipper", "image": "busybox:1.36", "restartPolicy": "Always",
               "command": ["sh", "-c", "exec sleep 3600"]}
    sandbox.apply(pod("sidecar", NGINX, initContainers=[sidecar], terminationGracePeriodSeconds=0), timeout=30)
    state = wait_running(sandbox, "sidecar")
    assert {c.name: (c.running, c.ready) for c in state.containers} == {"nginx": (True, True),
                                                                        "log-shipper": (True, True)}
    assert state.init_containers == ()
    [status] = served(cluster, sandbox.namespace, "sidecar")["status"]["initContainerStatuses"]
    assert status["name"] == "log-shipper" and status["started"] is True and "running" in status["state"]
    assert sandbox.exec("sidecar", "log-shipper", ["true"], timeout=10).exit_code == 0


def test_the_node_lists_its_images_and_containers_report_their_digest(cluster: FakeCluster,
                                                                      sandbox: KubernetesSandbox) -> None:
    sandbox.apply(pod("digest", NGINX, terminationGracePeriodSeconds=0), timeout=30)
    state = wait_running(sandbox, "digest")
    known = sandbox.image_digests("docker.io/library/nginx:1.25")
    assert known is not None and state.containers[0].image_id.rsplit(":", 1)[-1] in known


def test_the_server_is_kubernetes_1_36_and_kubectl_still_works(cluster: FakeCluster) -> None:
    """The kubectl on PATH runs the kubectl.1.NN of the server's minor (1.27-1.33 installed); for 1.36 it
    runs its own 1.32, warning about the version skew, and works (measured: `kubectl version` exits 0)."""
    status, version = http(cluster, "GET", "/version")
    assert status == 200 and (version["major"], version["minor"]) == ("1", "36")
    result = subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "version", "-o", "json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["serverVersion"]["minor"] == "36"
    # (typed reads such as `kubectl get pods` need the fake's discovery documents: branch kubectl-oracle)
    raw = subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "get", "--raw", "/api/v1/namespaces"],
                         capture_output=True, text=True, timeout=60)
    assert raw.returncode == 0 and json.loads(raw.stdout)["kind"] == "NamespaceList", raw.stderr


def test_a_1_28_server_drops_a_sidecars_restart_policy_and_the_grader_says_why(tmp_path) -> None:
    """pkg/api/pod/util.go: before 1.29 (SidecarContainers off) the field is dropped, not refused."""
    from graders.backends.kube import check_reachable, client_for
    with fake_cluster(tmp_path, "server-version:1.28", "sa-delay:0") as old:
        configuration = load_configuration(old.kubeconfig, CONTEXT)
        version = check_reachable(client_for(configuration), "the fake cluster", tried=[], fix="")
        assert version.startswith("v1.28.")
        box = KubernetesSandbox(lambda: client_for(configuration), f"old-{uuid.uuid4().hex[:6]}", "run1",
                                where="the fake cluster", version=version)
        try:
            sidecar = {"name": "log-shipper", "image": "busybox:1.36", "restartPolicy": "Always",
                       "command": ["sh", "-c", "exec sleep 3600"]}
            with pytest.raises(InfraError, match=r"your cluster is too old for native sidecars \(Kubernetes 1.29\+\)"):
                box.apply(pod("sidecar", NGINX, initContainers=[sidecar]), timeout=10)
            status, body = http(old, "POST", f"/api/v1/namespaces/{box.namespace}/pods",
                                pod("raw", NGINX, initContainers=[sidecar], terminationGracePeriodSeconds=0))
            assert status == 201 and "restartPolicy" not in body["spec"]["initContainers"][0]
        finally:
            box.close()
