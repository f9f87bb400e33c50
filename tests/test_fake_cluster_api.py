"""The fake cluster's API, through kube.py's own sandbox and over plain HTTP: the shapes, codes and
messages that the graders rely on, with real containers behind them."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from graders.backends.base import NOT_FOUND, ApplyRejected
from graders.backends.kube import ClusterBackend, KubernetesSandbox, load_configuration
from tests.cluster.fixture import CONTEXT, FakeCluster, fake_cluster

pytestmark = [pytest.mark.cluster, pytest.mark.podman]  # the fake cluster plays Pods with podman
SA_DELAY = 1.5


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    with fake_cluster(tmp_path_factory.mktemp("fake-cluster"), f"sa-delay:{SA_DELAY}") as running:
        yield running


@pytest.fixture
def sandbox(cluster: FakeCluster) -> Iterator[KubernetesSandbox]:
    backend = ClusterBackend(load_configuration(cluster.kubeconfig, CONTEXT), where="the fake cluster")
    opened = backend.open_sandbox("1.1", uuid.uuid4().hex[:8])
    yield opened
    opened.close()


def http(cluster: FakeCluster, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    server = yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


def pod(name: str, *containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": list(containers),
                                                                                   **spec}}


BUSYBOX = {"name": "box", "image": "busybox:1.36",
           "command": ["sh", "-c", "echo one; echo two; echo three; sleep 3600"]}


def state_of(sandbox: KubernetesSandbox, name: str) -> Any:
    """The state of a Pod the test knows to be there (Any, as wait_running's: containers are looked up by name)."""
    state = sandbox.state(name)
    assert state is not None, f"Pod {name} is gone"
    return state


def wait_running(sandbox: KubernetesSandbox, name: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = sandbox.state(name)
        if state and state.phase == "Running" and all(c.running for c in state.containers):
            return state
        time.sleep(0.2)
    raise AssertionError(f"Pod {name} not running: {state}")


def test_the_default_service_account_arrives_late_with_the_real_403(cluster: FakeCluster) -> None:
    ns = f"sa-{uuid.uuid4().hex[:6]}"
    assert http(cluster, "POST", "/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
    status, body = http(cluster, "POST", f"/api/v1/namespaces/{ns}/pods", pod("p", BUSYBOX))
    assert status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (f'pods "p" is forbidden: error looking up service account {ns}/default: '
                               'serviceaccount "default" not found')
    time.sleep(SA_DELAY)
    assert http(cluster, "GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] == 200
    assert http(cluster, "DELETE", f"/api/v1/namespaces/{ns}")[0] == 200


def test_invalid_pods_get_the_api_servers_422(sandbox: KubernetesSandbox) -> None:
    twins = pod("twins", {"name": "app", "image": "nginx:1.25", "volumeMounts": [{"name": "logs", "mountPath": "/l"}]},
                {"name": "app", "image": "busybox:1.36"})
    with pytest.raises(ApplyRejected) as rejected:
        sandbox.apply(twins, timeout=10)
    assert str(rejected.value) == ('422 Unprocessable Entity: Pod "twins" is invalid: ['
                                   'spec.containers[0].volumeMounts[0].name: Not found: "logs", '
                                   'spec.containers[1].name: Duplicate value: "app"]')
    with pytest.raises(ApplyRejected, match=r'metadata.name: Invalid value: "My_Pod": a lowercase RFC 1123 subdomain'):
        sandbox.apply(pod("My_Pod", BUSYBOX), timeout=10)
    with pytest.raises(ApplyRejected, match=r"spec.containers\[0\].image: Required value"):
        sandbox.apply(pod("noimage", {"name": "x"}), timeout=10)


def test_exec_logs_events_and_delete_through_kube_py(sandbox: KubernetesSandbox) -> None:
    sandbox.apply(pod("box", BUSYBOX, terminationGracePeriodSeconds=1), timeout=30)
    state = wait_running(sandbox, "box")
    assert state.containers[0].ready and state.containers[0].restarts == 0
    result = sandbox.exec("box", "box", ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert sandbox.exec("box", "box", ["curl", "-V"], timeout=10).exit_code == NOT_FOUND
    assert sandbox.logs("box", "box", tail=2) == "two\nthree\n"
    events = sandbox.events("box")
    assert events[0].startswith("Normal Scheduled") and 'Normal Pulled: Successfully pulled image "busybox:1.36"' \
        in " ".join(events) and events[-1] == "Normal Started: Started container box"
    assert sandbox.delete("box", grace_seconds=None, timeout=30)
    assert sandbox.state("box") is None and sandbox.leftovers() == []


def test_a_crash_loop_backs_off_as_the_kubelet_does(sandbox: KubernetesSandbox, cluster: FakeCluster) -> None:
    crasher = {"name": "crash", "image": "busybox:1.36", "command": ["sh", "-c", "echo bye; exit 7"]}
    sandbox.apply(pod("crash", crasher), timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        c = state_of(sandbox, "crash").containers[0]
        if c.reason == "CrashLoopBackOff":
            break
        time.sleep(0.2)
    assert (c.reason, c.restarts, c.exit_code, c.running) == ("CrashLoopBackOff", 1, 7, False)
    assert "back-off 10s restarting failed container=crash" in c.message
    time.sleep(3)  # within the 10 s back-off: no restart
    assert state_of(sandbox, "crash").containers[0].restarts == 1
    _, served = http(cluster, "GET", f"/api/v1/namespaces/{sandbox.namespace}/pods/crash")
    status = served["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["exitCode"] == 7 and status["lastState"]["terminated"]["reason"] == "Error"
    assert served["status"]["phase"] == "Running"  # restartPolicy Always: a crash loop is Running
    assert sandbox.delete("crash", grace_seconds=0, timeout=30)


def test_a_missing_image_waits_in_image_pull_back_off_while_the_rest_runs(sandbox: KubernetesSandbox,
                                                                        cluster: FakeCluster) -> None:
    sandbox.apply(pod("typo", {"name": "web", "image": "nginx:1.255"}, BUSYBOX), timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = state_of(sandbox, "typo")
        if state.container("box").running and state.container("web").reason == "ImagePullBackOff":
            break
        time.sleep(0.2)
    assert state.phase == "Pending" and state.container("box").running
    assert state.container("web").reason == "ImagePullBackOff"
    assert any("docker.io/library/nginx:1.255: not found" in e for e in sandbox.events("typo"))
    status, body = http(cluster, "GET", f"/api/v1/namespaces/{sandbox.namespace}/pods/typo/log?container=web")
    # the kubelet's words (pkg/kubelet/kubelet_pods.go validateContainerLogStatus)
    assert status == 400 and body["message"] == ('container "web" in pod "typo" is waiting to start: trying and '
                                                 'failing to pull image')
    assert sandbox.delete("typo", grace_seconds=0, timeout=30)


def test_proxy_limit_range_and_a_terminating_namespace(sandbox: KubernetesSandbox, cluster: FakeCluster) -> None:
    ns = sandbox.namespace
    limits = {"metadata": {"name": "defaults"}, "spec": {"limits": [
        {"type": "Container", "default": {"memory": "64Mi"}, "defaultRequest": {"cpu": "50m"}}]}}
    assert http(cluster, "POST", f"/api/v1/namespaces/{ns}/limitranges", limits)[0] == 201
    sandbox.apply(pod("web", {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}), timeout=30)
    state = wait_running(sandbox, "web")
    # the sandbox's own LimitRange (kube.py) adds its defaults; the ones posted here win where they say more
    resources = state.spec["containers"][0]["resources"]
    assert resources["limits"]["memory"] == "64Mi" and resources["requests"]["cpu"] == "50m", resources
    status, page = http(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/web:80/proxy/")
    assert status == 200 and "Welcome to nginx!" in page, page["message"] if isinstance(page, dict) else page
    assert http(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/web:80/proxy/missing")[0] == 404
    sandbox.apply(pod("stubborn", {**BUSYBOX, "command": ["sleep", "3600"]}), timeout=30)  # PID 1 ignores SIGTERM
    wait_running(sandbox, "stubborn")
    assert http(cluster, "DELETE", f"/api/v1/namespaces/{ns}")[0] == 200
    status, namespace = http(cluster, "GET", f"/api/v1/namespaces/{ns}")
    assert status == 200 and namespace["status"]["phase"] == "Terminating"
    assert state_of(sandbox, "stubborn").terminating
    status, body = http(cluster, "POST", f"/api/v1/namespaces/{ns}/pods", pod("late", BUSYBOX))
    assert status == 403 and "because it is being terminated" in body["message"]


def test_an_ephemeral_container_joins_the_pod_with_its_volume(sandbox: KubernetesSandbox, cluster: FakeCluster) -> None:
    """What `kubectl debug` does: a container added to a running Pod, sharing its network and the
    volumes it names; its logs are readable and its status is reported."""
    writer = {"name": "writer", "image": "busybox:1.36", "volumeMounts": [{"name": "data", "mountPath": "/data"}],
              "command": ["sh", "-c", "echo hello > /data/note; exec sleep 3600"]}
    sandbox.apply(pod("shared", writer, volumes=[{"name": "data", "emptyDir": {}}], terminationGracePeriodSeconds=0),
                  timeout=30)
    wait_running(sandbox, "shared")
    path = f"/api/v1/namespaces/{sandbox.namespace}/pods/shared/ephemeralcontainers"
    debugger = {"name": "debugger", "image": "busybox:1.36", "command": ["sh", "-c", "cat /mnt/note; sleep 3600"],
                "volumeMounts": [{"name": "data", "mountPath": "/mnt"}]}
    status, _ = http(cluster, "PATCH", path, {"spec": {"ephemeralContainers": [debugger]}})
    assert status == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sandbox.logs("shared", "debugger") != "hello\n":
        time.sleep(0.3)
    assert sandbox.logs("shared", "debugger") == "hello\n"
    assert sandbox.exec("shared", "debugger", ["cat", "/mnt/note"], timeout=10).stdout == "hello\n"
    _, served = http(cluster, "GET", f"/api/v1/namespaces/{sandbox.namespace}/pods/shared")
    assert "running" in served["status"]["ephemeralContainerStatuses"][0]["state"]
    status, body = http(cluster, "PATCH", path, {"spec": {"ephemeralContainers": [
        {**debugger, "name": "writer"},
        {**debugger, "name": "other", "volumeMounts": [{"name": "x", "mountPath": "/x"}]}]}})
    assert status == 422
    assert body["message"] == ('Pod "shared" is invalid: [spec.ephemeralContainers[0].name: Duplicate '
                               'value: "writer", spec.ephemeralContainers[1].volumeMounts[0].name: '
                               'Not found: "x"]')
    assert sandbox.delete("shared", grace_seconds=0, timeout=30)


def test_sigterm_removes_every_pod_it_played_at_once(tmp_path: Path) -> None:
    """Also a Pod still in its 30 s grace period, and one still pulling: the server exits within seconds."""
    marker = uuid.uuid4().hex[:8]
    with fake_cluster(tmp_path, "sa-delay:0") as running:
        ns = f"t-{marker}"
        assert http(running, "POST", "/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
        stubborn = pod(f"stubborn-{marker}", {**BUSYBOX, "command": ["sleep", "3600"]})
        assert http(running, "POST", f"/api/v1/namespaces/{ns}/pods", stubborn)[0] == 201
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _podman_pods(marker):
            time.sleep(0.2)
        assert _podman_pods(marker), "the Pod was never played"
        assert http(running, "DELETE", f"/api/v1/namespaces/{ns}/pods/stubborn-{marker}")[0] == 200
        began = time.monotonic()
    assert time.monotonic() - began < 20
    assert running.process.returncode == 0, running.output
    assert _podman_pods(marker) == []


def _podman_pods(marker: str) -> list[str]:
    listed = subprocess.run(["podman", "pod", "ps", "--format", "{{.Name}}", "--filter", f"name={marker}"],
                            capture_output=True, text=True, timeout=60)
    return listed.stdout.split()


def test_readiness_comes_from_the_readiness_probe(sandbox: KubernetesSandbox) -> None:
    """Running is not Ready: an exec probe passes once its file exists (the test makes it, whatever the
    machine's speed); an httpGet probe on a path nginx answers with 404 keeps the container not Ready, with
    Unhealthy events."""
    waits = {"name": "waits", "image": "busybox:1.36", "command": ["sleep", "3600"],
             "readinessProbe": {"exec": {"command": ["test", "-e", "/tmp/ok"]}, "periodSeconds": 1}}
    web = {"name": "web", "image": "nginx:1.25", "ports": [{"name": "http", "containerPort": 80}],
           "readinessProbe": {"httpGet": {"path": "/missing", "port": "http"}, "periodSeconds": 2}}
    sandbox.apply(pod("probed", waits, web, terminationGracePeriodSeconds=0), timeout=30)
    state = wait_running(sandbox, "probed")
    assert not state.container("waits").ready
    assert sandbox.exec("probed", "waits", ["touch", "/tmp/ok"], timeout=30).exit_code == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not state_of(sandbox, "probed").container("waits").ready:
        time.sleep(0.3)
    later = state_of(sandbox, "probed")
    assert later.container("waits").ready and later.container("web").running and not later.container("web").ready
    assert ("Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404"
            in sandbox.events("probed"))
    assert sandbox.delete("probed", grace_seconds=0, timeout=30)


def test_references_to_missing_config_and_the_nodes_paths(sandbox: KubernetesSandbox, cluster: FakeCluster) -> None:
    """No ConfigMap or Secret exists here: an env reference is CreateContainerConfigError, a volume
    keeps the Pod ContainerCreating with FailedMount. A hostPath is the node's path, never this
    machine's: the container sees an empty directory."""
    secret_env = {**BUSYBOX, "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "t"}}}]}
    sandbox.apply(pod("needs-secret", secret_env), timeout=30)
    sandbox.apply(pod("needs-config", {**BUSYBOX, "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]},
                      volumes=[{"name": "cfg", "configMap": {"name": "settings"}}]), timeout=30)
    host = {**BUSYBOX, "volumeMounts": [{"name": "etc", "mountPath": "/host-etc"}]}
    refused = r'violates PodSecurity "baseline:latest": hostPath volumes \(volume "etc"\)'
    with pytest.raises(ApplyRejected, match=refused):
        sandbox.apply(pod("host", host, volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}]), timeout=30)
    # the run's namespace enforces baseline, which refuses hostPath: relabelled privileged, as an admin could
    privileged = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert http(cluster, "PATCH", f"/api/v1/namespaces/{sandbox.namespace}", privileged)[0] == 200
    sandbox.apply(pod("host", host, volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}],
                      terminationGracePeriodSeconds=0), timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and state_of(sandbox, "needs-secret").containers[0].reason != \
            "CreateContainerConfigError":
        time.sleep(0.3)
    box = state_of(sandbox, "needs-secret").containers[0]
    assert (box.reason, box.message) == ("CreateContainerConfigError", 'secret "api" not found')
    assert state_of(sandbox, "needs-config").containers[0].reason == "ContainerCreating"
    assert 'Warning FailedMount: MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found' in \
        sandbox.events("needs-config")
    wait_running(sandbox, "host")
    assert sandbox.exec("host", "box", ["ls", "-A", "/host-etc"], timeout=10).stdout == ""
    for name in ("needs-secret", "needs-config", "host"):
        assert sandbox.delete(name, grace_seconds=0, timeout=30)
