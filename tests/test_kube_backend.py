"""KubernetesSandbox and its helpers against a fake API server (kmock) over real HTTP: the official
client, the kubeconfig loading and the JSON on the wire are the real ones."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import kmock
import kubernetes.client
import kubernetes.config.kube_config
import pytest

import time

from graders.backends.base import MANAGED_BY, RUN_LABEL, STARTED_LABEL, ApplyRejected, ContainerState
from graders.backends.context import ContextBackend
from graders.backends.kube import KubernetesSandbox, api_client, check_reachable, exec_status, sandbox_namespace
from graders.errors import InfraError
from tests.kube_fakes import TOKEN, KubeAPI, kube_api, write_kubeconfig  # noqa: F401  (kube_api: a fixture)

RUN_ID = "ab12cd34"
NS = sandbox_namespace("1.1", RUN_ID)
PODS = f"/api/v1/namespaces/{NS}/pods"
POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {"restartPolicy": "Always", "containers": [{"name": "app", "image": "nginx:1.27"}]},
}


@pytest.fixture
def kubeconfig(kube_api: KubeAPI, tmp_path: Path) -> Path:
    return kube_api.kubeconfig(tmp_path / "kubeconfig", context="fake")


@pytest.fixture
def sandbox(kube_api: KubeAPI, kubeconfig: Path):
    box = KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster")
    yield box
    box.close()


def store_pod(kube_api: KubeAPI, status: dict | None = None, **metadata: object) -> None:
    """Put the Pod straight into the emulator, as the API server would hold it after an apply."""
    pod = json.loads(json.dumps(POD))
    pod["metadata"].update(namespace=NS, **metadata)
    if status is not None:
        pod["status"] = status
    kube_api.mock.objects["v1/pods", NS, "web"] = pod


def closed_port() -> int:
    """A local port that was free a moment ago: nothing listens there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the namespace ----------------------------------------------------------------------------------

def test_sandbox_namespace_is_named_after_the_lab_and_the_run():
    assert NS == "k8s101-1-1-ab12cd34"


def test_the_constructor_creates_the_namespace_with_the_run_labels(kube_api, sandbox):
    [post] = kube_api.mock["post /api/v1/namespaces"]
    started = int(post.data["metadata"]["labels"].pop(STARTED_LABEL))
    assert abs(started - time.time()) < 60  # when the run started: killed runs' leftovers age out
    assert post.data == {"metadata": {"name": NS, "labels": {
        "app.kubernetes.io/managed-by": MANAGED_BY, RUN_LABEL: RUN_ID}}}
    assert MANAGED_BY == "k8s101-graders" and RUN_LABEL == "k8s101.dev/run-id"
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"  # the kubeconfig's user was used
    assert sandbox.description == f"namespace {NS} on a fake cluster"


def test_the_constructor_reports_an_api_failure_as_an_infra_error(kube_api, kubeconfig):
    kube_api.fail("post /api/v1/namespaces", 403, "Forbidden",
                  'namespaces is forbidden: User "student" cannot create resource "namespaces"')
    with pytest.raises(InfraError) as caught:
        KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster")
    assert f"create the namespace {NS}" in caught.value.problem
    assert 'cannot create resource "namespaces"' in caught.value.problem
    assert "kubectl cluster-info" in caught.value.fix


def test_close_deletes_the_namespace_and_is_safe_twice(kube_api, sandbox):
    sandbox.close()
    sandbox.close()
    deletes = kube_api.mock[f"delete /api/v1/namespaces/{NS}"]
    assert len(deletes) == 2  # the second one is answered 404, which close() accepts
    assert deletes[0].params == {"gracePeriodSeconds": "0"}
    assert kube_api.mock.objects["v1/namespaces", None, NS].deleted


# -- apply ------------------------------------------------------------------------------------------

def test_apply_creates_the_pod_in_the_sandbox_namespace_with_the_run_labels(kube_api, sandbox):
    student = json.loads(json.dumps(POD))
    sandbox.apply(student, timeout=5)
    [post] = kube_api.mock[f"post {PODS}"]
    assert post.data["metadata"]["namespace"] == NS  # the student's `namespace: default` is replaced
    assert post.data["metadata"]["labels"] == {
        "app": "web", RUN_LABEL: RUN_ID, "app.kubernetes.io/managed-by": MANAGED_BY,
        STARTED_LABEL: post.data["metadata"]["labels"][STARTED_LABEL]}
    assert post.data["spec"] == POD["spec"]
    assert student == POD  # the student's manifest itself is left alone
    assert sandbox.state("web").labels["app"] == "web"


def test_apply_maps_422_invalid_to_apply_rejected_with_the_api_message(kube_api, sandbox):
    message = ('Pod "web" is invalid: spec.containers[0].ports[0].containerPort: '
               'Invalid value: 70000: must be between 1 and 65535, inclusive')
    kube_api.fail(f"post {PODS}", 422, "Invalid", message)
    with pytest.raises(ApplyRejected) as caught:
        sandbox.apply(POD, timeout=5)
    assert str(caught.value).startswith("422 ")
    assert message in str(caught.value)
    assert len(kube_api.mock[f"post {PODS}"]) == 1  # a student error is not retried


def test_apply_retries_while_the_default_service_account_is_missing(kube_api, sandbox):
    kube_api.fail(f"post {PODS}", 403, "Forbidden",
                  f'pods "web" is forbidden: error looking up service account {NS}/default: '
                  'serviceaccount "default" not found', times=2)
    sandbox.apply(POD, timeout=10)
    assert len(kube_api.mock[f"post {PODS}"]) == 3
    assert sandbox.state("web") is not None


def test_apply_gives_up_on_the_missing_service_account_at_the_timeout(kube_api, sandbox):
    kube_api.fail(f"post {PODS}", 403, "Forbidden", 'serviceaccount "default" not found')
    with pytest.raises(InfraError) as caught:
        sandbox.apply(POD, timeout=0.3)
    assert f"namespace {NS} was not ready for Pods" in caught.value.problem
    assert 'serviceaccount "default" not found' in caught.value.problem
    assert "--timeout-apply" in caught.value.fix


def test_apply_maps_a_server_error_to_an_infra_error(kube_api, sandbox):
    kube_api.fail(f"post {PODS}", 500, "InternalError", "etcdserver: request timed out")
    with pytest.raises(InfraError) as caught:
        sandbox.apply(POD, timeout=5)
    assert not isinstance(caught.value, ApplyRejected)
    assert "create Pod web" in caught.value.problem and "500 etcdserver: request timed out" in caught.value.problem


# -- state ------------------------------------------------------------------------------------------

def test_state_is_none_for_a_missing_pod(kube_api, sandbox):
    assert sandbox.state("web") is None
    assert len(kube_api.mock[f"get {PODS}/web"]) == 1


def test_state_maps_the_pod_status(kube_api, sandbox):
    containers = [{"name": n, "image": f"{n}:1"} for n in ("pull", "app", "job", "new")]
    store_pod(kube_api, deletionTimestamp="2026-01-01T10:00:00Z", status={
        "phase": "Running",
        "containerStatuses": [
            {"name": "pull", "image": "pull:1", "imageID": "", "ready": False, "restartCount": 0,
             "state": {"waiting": {"reason": "ErrImagePull",
                                   "message": 'failed to pull image "pull:1": not found'}}},
            {"name": "app", "image": "app:1", "imageID": "sha256:1", "ready": True, "restartCount": 2,
             "state": {"running": {"startedAt": "2026-01-01T09:59:00Z"}},
             "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}},
            {"name": "job", "image": "job:1", "imageID": "sha256:2", "ready": False, "restartCount": 1,
             "state": {"terminated": {"exitCode": 3, "reason": "Error"}}},
        ]})
    kube_api.mock.objects["v1/pods", NS, "web"].patch({"spec": {"containers": containers}})
    state = sandbox.state("web")
    assert (state.name, state.phase, state.labels, state.terminating) == ("web", "Running", {"app": "web"}, True)
    assert state.spec["restartPolicy"] == "Always" and [c["name"] for c in state.spec["containers"]] == [
        "pull", "app", "job", "new"]  # camelCase keys, as submitted
    assert state.container("pull") == ContainerState(
        "pull", "pull:1", running=False, ready=False, reason="ErrImagePull",
        message='failed to pull image "pull:1": not found')
    assert state.container("app") == ContainerState("app", "app:1", running=True, ready=True, restarts=2,
                                                     exit_code=137, image_id="sha256:1")  # what really runs
    assert state.container("job") == ContainerState("job", "job:1", running=False, ready=False, restarts=1,
                                                     reason="Error", message="exited with code 3", exit_code=3,
                                                     image_id="sha256:2")
    assert state.container("new") == ContainerState("new", "new:1", running=False, ready=False,
                                                    reason="ContainerCreating")
    assert state.container("nope") is None


def test_state_of_a_pod_without_status_is_pending_and_not_terminating(kube_api, sandbox):
    store_pod(kube_api)
    state = sandbox.state("web")
    assert state.phase == "Pending" and not state.terminating
    assert state.containers == (ContainerState("app", "nginx:1.27", running=False, ready=False,
                                               reason="ContainerCreating"),)


def test_state_maps_a_server_error_to_an_infra_error(kube_api, sandbox):
    kube_api.fail(f"get {PODS}/web", 500, "InternalError", "etcd is down")
    with pytest.raises(InfraError, match="read Pod web: 500 etcd is down"):
        sandbox.state("web")


# -- logs and events --------------------------------------------------------------------------------

def test_logs_returns_the_container_output(kube_api, sandbox):
    store_pod(kube_api)
    kube_api.mock[f"get {PODS}/web/log"] << kmock.headers({"Content-Type": "text/plain"}) << b"one\ntwo\n"
    assert sandbox.logs("web", "app", tail=5) == "one\ntwo\n"
    [request] = kube_api.mock[f"get {PODS}/web/log"]
    assert request.params == {"container": "app", "tailLines": "5"}


def test_logs_are_empty_when_the_api_refuses(kube_api, sandbox):
    kube_api.fail(f"get {PODS}/web/log", 400, "BadRequest",
                  'container "app" in pod "web" is waiting to start: ContainerCreating')
    assert sandbox.logs("web", "app") == ""


def test_events_are_formatted_and_sorted_by_time(kube_api, sandbox):
    def event(name: str, type_: str, reason: str, message: str, **times: str) -> dict:
        return {"metadata": {"name": name, "namespace": NS}, "type": type_, "reason": reason, "message": message,
                "involvedObject": {"kind": "Pod", "name": "web", "namespace": NS}, **times}

    kube_api.mock[f"get /api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name=web"] << {
        "kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [
            event("c", "Warning", "Failed", 'Failed to pull image "nginx:nope"', lastTimestamp="2026-01-01T10:00:05Z"),
            event("a", "Normal", "Scheduled", "Successfully assigned to node", lastTimestamp="2026-01-01T10:00:01Z"),
            event("b", "Normal", "Pulling", 'Pulling image "nginx:nope"', eventTime="2026-01-01T10:00:02.500000Z"),
        ]}
    assert sandbox.events("web") == [
        "Normal Scheduled: Successfully assigned to node",
        'Normal Pulling: Pulling image "nginx:nope"',
        'Warning Failed: Failed to pull image "nginx:nope"',
    ]


def test_events_are_empty_when_the_api_refuses(kube_api, sandbox):
    kube_api.fail(f"get /api/v1/namespaces/{NS}/events", 403, "Forbidden", "events is forbidden")
    assert sandbox.events("web") == []


# -- delete and leftovers ---------------------------------------------------------------------------

def hold_until_fetched(kube_api: KubeAPI, times: int) -> None:
    """Keep the Pod readable (terminating) for `times` GETs after its DELETE, then let it be gone."""
    store_pod(kube_api, finalizers=["test.k8s101.dev/hold"])  # kmock: a DELETE only marks it terminating
    fetched = iter(range(times))

    def fetch(request: kmock.Request) -> object:
        if next(fetched, None) is not None:
            return kube_api.mock.objects["v1/pods", NS, "web"].raw
        del kube_api.mock.objects["v1/pods", NS, "web"]
        return NotImplemented  # kmock: this reaction is done, the emulator answers from now on (404)

    kube_api.mock[f"get {PODS}/web"] << fetch


def test_delete_sends_the_grace_period_and_waits_until_the_pod_is_gone(kube_api, sandbox):
    hold_until_fetched(kube_api, times=2)
    assert sandbox.delete("web", grace_seconds=7, timeout=5) is True
    [delete] = kube_api.mock[f"delete {PODS}/web"]
    assert delete.params == {"gracePeriodSeconds": "7"}  # the client sends it as a query parameter
    assert delete.data is None  # ... and no DeleteOptions body
    assert len(kube_api.mock[f"get {PODS}/web"]) == 3  # terminating, terminating, 404


def test_delete_without_grace_leaves_the_pods_own(kube_api, sandbox):
    store_pod(kube_api)
    assert sandbox.delete("web", grace_seconds=None, timeout=5) is True
    [delete] = kube_api.mock[f"delete {PODS}/web"]
    assert "gracePeriodSeconds" not in delete.params


def test_delete_of_a_missing_pod_is_done(kube_api, sandbox):
    assert sandbox.delete("web", grace_seconds=0, timeout=5) is True


def test_delete_returns_false_when_the_pod_outlives_the_timeout(kube_api, sandbox):
    hold_until_fetched(kube_api, times=1000)
    assert sandbox.delete("web", grace_seconds=30, timeout=0.3) is False
    assert sandbox.state("web").terminating


def test_delete_maps_a_server_error_to_an_infra_error(kube_api, sandbox):
    store_pod(kube_api)  # kmock answers a DELETE of a missing object with 404 before any reaction
    kube_api.fail(f"delete {PODS}/web", 500, "InternalError", "etcd is down")
    with pytest.raises(InfraError, match="delete Pod web: 500 etcd is down"):
        sandbox.delete("web", grace_seconds=0, timeout=5)


def test_leftovers_lists_the_pods_still_in_the_namespace(kube_api, sandbox):
    assert sandbox.leftovers() == []
    sandbox.apply(POD, timeout=5)
    sandbox.apply({**POD, "metadata": {"name": "sidecar"}}, timeout=5)
    kube_api.mock.objects["v1/pods", "elsewhere", "other"] = {"metadata": {"name": "other", "namespace": "elsewhere"}}
    assert sorted(sandbox.leftovers()) == ["pod sidecar", "pod web"]
    sandbox.delete("web", grace_seconds=0, timeout=5)
    assert sandbox.leftovers() == ["pod sidecar"]


# -- exec_status ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("channel", "expected"), [
    ("", (0, "")),
    ("  \n", (0, "")),
    ('{"metadata": {}, "status": "Success"}', (0, "")),
    (json.dumps({"metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code: 3",
                 "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}),
     (3, "")),
    (json.dumps({"metadata": {}, "status": "Failure", "message": (
        'failed to exec in container: exec: "curl": executable file not found in $PATH')}),
     (127, 'failed to exec in container: exec: "curl": executable file not found in $PATH')),
    (json.dumps({"status": "Failure", "message": 'container not found ("app")'}),
     (126, 'container not found ("app")')),
    ("garbage that is not JSON", (126, "garbage that is not JSON")),
])
def test_exec_status(channel, expected):
    assert exec_status(channel) == expected


# -- api_client and check_reachable -----------------------------------------------------------------

def test_check_reachable_returns_the_server_version(kubeconfig):
    assert check_reachable(api_client(kubeconfig, "fake"), "the fake", tried=[], fix="") == "v1.36.1"


def test_check_reachable_raises_an_infra_error_when_nothing_listens(tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_port()}", context="gone")
    with pytest.raises(InfraError) as caught:
        check_reachable(api_client(kubeconfig, None), "the gone cluster", tried=["a closed port"],
                        fix="start the cluster")
    assert caught.value.problem.startswith("the Kubernetes API of the gone cluster does not answer: ")
    assert caught.value.tried == ["a closed port"] and caught.value.fix == "start the cluster"


def test_api_client_refuses_an_unknown_context(kubeconfig):
    with pytest.raises(InfraError) as caught:
        api_client(kubeconfig, "no-such-context")
    assert "'no-such-context'" in caught.value.problem
    assert "kubectl config get-contexts" in caught.value.fix


# -- the context backend ----------------------------------------------------------------------------

@pytest.fixture
def kubeconfig_env(kube_api: KubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$KUBECONFIG -> a file in tmp_path (~/.kube is never read) with two contexts: `fake` (the kmock
    server) and `current`, the current context, whose server does not answer."""
    path = write_kubeconfig(tmp_path / "kube" / "config", f"http://127.0.0.1:{closed_port()}", context="current")
    config = json.loads(path.read_text())
    fake = json.loads(kube_api.kubeconfig(tmp_path / "kube" / "fake", context="fake").read_text())
    for key in ("clusters", "users", "contexts"):
        config[key] += fake[key]
    path.write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(path))
    # the client reads $KUBECONFIG once, when kubernetes.config is imported: point it at this file too
    monkeypatch.setattr(kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    return path


def test_context_backend_refuses_an_unknown_context(kubeconfig_env):
    with pytest.raises(InfraError) as caught:
        ContextBackend("prod")
    assert "'prod'" in caught.value.problem
    assert "kubectl config get-contexts" in caught.value.fix
    assert "kubectl config get-contexts" in str(caught.value)


def test_context_backend_uses_the_named_context_not_the_current_one(kube_api, kubeconfig_env):
    backend = ContextBackend("fake")  # the current context's server would not answer
    assert backend.version == "v1.36.1"
    sandbox = backend.open_sandbox("1.1", RUN_ID)
    try:
        assert sandbox.description == f"namespace {NS} on context fake (Kubernetes v1.36.1)"
        assert kube_api.mock.objects["v1/namespaces", None, NS]["metadata"]["labels"][RUN_LABEL] == RUN_ID
    finally:
        sandbox.close()
        backend.close()


def test_reap_removes_only_old_namespaces_of_the_graders(kube_api, kubeconfig):
    from graders.backends.kube import reap_stale_namespaces

    core = kubernetes.client.CoreV1Api(api_client(kubeconfig, None))
    old, recent = str(int(time.time()) - 7200), str(int(time.time()))
    ours = {"app.kubernetes.io/managed-by": MANAGED_BY}
    for name, labels in [("k8s101-1-1-killed", {**ours, STARTED_LABEL: old}),
                         ("k8s101-1-1-running", {**ours, STARTED_LABEL: recent}),
                         ("students-own", {STARTED_LABEL: old}),
                         ("k8s101-1-1-unlabelled", {**ours})]:
        core.create_namespace({"metadata": {"name": name, "labels": labels}})
    # kmock ignores label selectors: the reaper must check the labels itself
    assert reap_stale_namespaces(api_client(kubeconfig, None), older_than=3600) == ["namespace k8s101-1-1-killed"]
    deleted = [r.url.path.rsplit("/", 1)[1] for r in kube_api.mock["delete /api/v1/namespaces/*"]]
    assert deleted == ["k8s101-1-1-killed"]
