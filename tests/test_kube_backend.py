"""KubernetesSandbox and its helpers against a fake API server (kmock) over real HTTP: the official
client, the kubeconfig loading and the JSON on the wire are the real ones."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

import kmock
import kubernetes.client
import kubernetes.config.kube_config
import pytest

import time

from graders.backends.base import MANAGED_BY, RUN_LABEL, STARTED_LABEL, ApplyRejected, ContainerState
from graders.backends import kube
from graders.backends.kube import calls, errors, evidence
from graders.backends.context import ContextBackend
from graders.backends.kube import KubernetesSandbox, api_client, check_reachable, exec_status, sandbox_namespace
from graders.errors import InfraError
from tests.kube_fakes import TOKEN, KubeAPI, write_kubeconfig

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
        "app.kubernetes.io/managed-by": MANAGED_BY, RUN_LABEL: RUN_ID,
        "pod-security.kubernetes.io/enforce": "baseline"}}}  # the offline check's policy, enforced
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


def test_state_maps_a_server_error_to_an_infra_error(kube_api, sandbox, monkeypatch):
    monkeypatch.setattr(calls, "RIDE_OUT", 1)  # of 20 s: a read retries a 5xx until then, then it is reported
    kube_api.fail(f"get {PODS}/web", 500, "InternalError", "etcd is down")
    began = time.monotonic()
    with pytest.raises(InfraError, match="read Pod web: 500 etcd is down"):
        sandbox.state("web")
    assert len(list(kube_api.mock[f"get {PODS}/web"])) > 1 and time.monotonic() - began < 5


def test_a_raw_get_is_retried_as_the_generated_reads_are(kube_api, sandbox, monkeypatch):
    """read() and the listing of leftovers go through the raw GET (no client models): a 503 there is ridden
    out too, where before only methods named read_*/list_* were."""
    monkeypatch.setattr(calls, "RIDE_OUT", 1)
    kube_api.fail(f"get {PODS}/web", 503, "ServiceUnavailable", "the apiserver is restarting")
    with pytest.raises(InfraError, match="read Pod web: 503 the apiserver is restarting"):
        sandbox.read("Pod", "web")
    assert len(list(kube_api.mock[f"get {PODS}/web"])) > 1


def test_the_retry_is_decided_by_the_http_verb() -> None:
    """A write is never repeated (it may have reached the server before the answer failed); a GET is."""
    assert calls.verb(calls.post) == "POST" and calls.verb(calls.get) == "GET"
    assert calls.verb(kubernetes.client.CoreV1Api.create_namespace) == "WRITE"
    assert calls.verb(kubernetes.client.CoreV1Api.list_namespace) == "GET"


@pytest.mark.parametrize(("status", "cls"), [
    (400, "BadRequest"), (401, "Unauthorized"), (403, "Forbidden"), (404, "NotFound"), (409, "Conflict"),
    (422, "Invalid"), (429, "TooManyRequests"), (418, "ClientError"), (500, "ServerError"), (503, "ServerError"),
])
def test_each_error_status_has_its_class_as_kopf_maps_them(status, cls):
    """kopf/_cogs/clients/errors.py: 401, 403, 404, 409, 422, 429 by name, then 4xx and 5xx as families."""
    error = errors.api_error(kubernetes.client.ApiException(status=status, reason="Some Phrase", body="{}"))
    assert type(error).__name__ == cls and error.status == status
    assert isinstance(error, errors.ClientError if status < 500 else errors.ServerError)


def test_an_error_reads_reason_and_message_from_the_status_object_not_the_text():
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409,
                       "reason": "AlreadyExists", "message": 'pods "web" already exists',
                       "details": {"name": "web", "kind": "pods"}})
    error = errors.api_error(kubernetes.client.ApiException(status=409, reason="Conflict", body=body))
    assert (error.reason, error.message, error.phrase) == ("AlreadyExists", 'pods "web" already exists', "Conflict")
    assert error.details == {"name": "web", "kind": "pods"}
    # a body that is not a v1 Status says nothing, whatever words it holds: the HTTP phrase stands in
    page = errors.api_error(kubernetes.client.ApiException(
        status=502, reason="Bad Gateway", body='<html>"message": "Status" proxy page</html>'))
    assert (page.reason, page.message) == ("", "Bad Gateway")
    other = errors.api_error(kubernetes.client.ApiException(status=500, reason="", body='{"message": "no kind"}'))
    assert other.message == "500"


def test_node_labels_ride_out_a_transient_failure_as_every_read_does(kube_api, sandbox, monkeypatch):
    monkeypatch.setattr(calls, "RIDE_OUT", 5)
    kube_api.mock.objects["v1/nodes", None, "one"] = {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "one", "labels": {"disktype": "ssd"}}}
    kube_api.fail("get /api/v1/nodes", 503, "ServiceUnavailable", "the apiserver is restarting", times=1)
    assert sandbox.node_labels() == {"disktype": frozenset({"ssd"})}
    assert len(list(kube_api.mock["get /api/v1/nodes"])) == 2


def test_cluster_problem_rides_out_a_transient_failure_as_every_read_does(kube_api, kubeconfig, monkeypatch):
    monkeypatch.setattr(calls, "RIDE_OUT", 5)
    kube_api.mock.objects["v1/nodes", None, "one"] = {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "one"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    kube_api.mock.objects["v1/pods", "kube-system", "coredns"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "coredns", "namespace": "kube-system"},
        "status": {"phase": "Running"}}
    kube_api.fail("get /api/v1/nodes", 429, "TooManyRequests", "Too many requests, please try again later.",
                  times=1)
    assert kube.cluster_problem(api_client(kubeconfig, None)) is None
    assert len(list(kube_api.mock["get /api/v1/nodes"])) == 2


def test_a_write_is_not_repeated_on_a_transient_failure(kube_api, sandbox, monkeypatch):
    monkeypatch.setattr(calls, "RIDE_OUT", 5)
    kube_api.fail(f"post {PODS}", 503, "ServiceUnavailable", "the apiserver is restarting", times=1)
    with pytest.raises(InfraError, match="create Pod web: 503 the apiserver is restarting"):
        sandbox.apply(json.loads(json.dumps(POD)), timeout=5)
    assert len(list(kube_api.mock[f"post {PODS}"])) == 1


# -- logs and events --------------------------------------------------------------------------------

def test_logs_returns_the_container_output(kube_api, sandbox):
    store_pod(kube_api)
    kube_api.mock[f"get {PODS}/web/log"] << kmock.headers({"Content-Type": "text/plain"}) << b"one\ntwo\n"
    assert sandbox.logs("web", "app", tail=5) == "one\ntwo\n"
    [request] = kube_api.mock[f"get {PODS}/web/log"]
    assert request.params == {"container": "app", "tailLines": "5", "limitBytes": str(evidence.LOG_READ_LIMIT)}


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

    def fetch(request: kmock.Request) -> kmock.Payload:
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


# -- faults of real clusters (issue 9) --------------------------------------------------------------

def test_the_namespace_gets_a_limit_range_and_a_resource_quota(kube_api, sandbox):
    from graders import bounds
    [limits] = kube_api.mock[f"post /api/v1/namespaces/{NS}/limitranges"]
    [quota] = kube_api.mock[f"post /api/v1/namespaces/{NS}/resourcequotas"]
    [container_limits] = limits.data["spec"]["limits"]
    assert container_limits["default"] == bounds.DEFAULT_LIMITS
    assert container_limits["defaultRequest"] == bounds.DEFAULT_REQUESTS
    assert set(quota.data["spec"]["hard"]) >= {"pods", "limits.memory"}
    for sent in (limits, quota):  # the reaper and `kubectl get -l` find them as the run's
        assert sent.data["metadata"]["labels"][RUN_LABEL] == RUN_ID


def test_the_limit_range_refuses_nothing_the_offline_policy_accepts(kube_api, sandbox):
    """Issue 19 item 3: LimitRanger answers a container above `max` with 403, it never lowers a limit
    (plugin/pkg/admission/limitranger/admission.go, maxConstraint). So `max` holds only what the offline
    policy refuses in the same words on every backend; a CPU limit has none (lab 1.2's `cpu: 5` was 10/100
    on kind and 85/100 on podman)."""
    from graders import bounds
    from graders.backends.podman import play as podman_play
    from graders.validation.quantity import parse
    [limits] = kube_api.mock[f"post /api/v1/namespaces/{NS}/limitranges"]
    [container_limits] = limits.data["spec"]["limits"]
    assert "cpu" not in container_limits["max"]
    assert container_limits["max"] == bounds.MAX_LIMITS
    # podman's caps are the cluster's defaults
    assert parse(bounds.DEFAULT_LIMITS["memory"]).value == podman_play.MEMORY_LIMIT
    assert parse(bounds.DEFAULT_LIMITS["cpu"]).value == podman_play.CPU_LIMIT
    five_cpus = {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "resources": {
        "requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 5, "memory": "128Mi"}}}]}}
    assert bounds.violations(five_cpus) == []
    too_much = {"spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                                         "resources": {"limits": {"memory": "4Gi"}}}]}}
    found = dict(bounds.violations(too_much))
    assert "more than a grading run lets a container use (at most 1Gi" in found[
        "spec.containers[0].resources.limits.memory"]


NUMERIC = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {
    "containers": [{"name": "app", "image": "nginx:1.25",
                    "resources": {"limits": {"cpu": 1, "memory": 134217728}},
                    "volumeMounts": [{"name": "logs", "mountPath": "/logs"}]}],
    "volumes": [{"name": "logs", "emptyDir": {"sizeLimit": 67108864}}]}}


def test_apply_sends_numeric_quantities_as_written(kube_api, sandbox):
    sandbox.apply(json.loads(json.dumps(NUMERIC)), timeout=5)  # kubectl and the API server accept these
    [post] = kube_api.mock[f"post {PODS}"]
    assert post.data["spec"]["containers"][0]["resources"] == {"limits": {"cpu": 1, "memory": 134217728}}
    assert post.data["spec"]["volumes"][0]["emptyDir"] == {"sizeLimit": 67108864}
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Content-Type"] == "application/json"


def test_an_unexpected_error_while_applying_is_an_infra_error(kube_api, sandbox, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug nobody foresaw")

    with monkeypatch.context() as patched, pytest.raises(InfraError) as caught:
        patched.setattr(sandbox.api.api_client, "call_api", broken)
        sandbox.apply(POD, timeout=5)
    assert "RuntimeError: a bug nobody foresaw" in caught.value.problem and "web" in caught.value.problem


def test_a_pod_the_client_cannot_even_serialize_is_an_infra_error(kube_api, sandbox):
    import datetime

    odd = {**POD, "metadata": {"name": "web", "annotations": {"on": datetime.date(2026, 1, 1)}}}  # YAML's dates
    with pytest.raises(InfraError, match="an unexpected error while creating Pod web: TypeError"):
        sandbox.apply(odd, timeout=5)


def test_a_403_other_than_the_missing_service_account_is_the_clusters_policy(kube_api, sandbox):
    kube_api.fail(f"post {PODS}", 403, "Forbidden", f'pods "web" is forbidden: User '
                  f'"system:serviceaccount:ci:grader" cannot create resource "pods" in the namespace "{NS}"')
    with pytest.raises(InfraError) as caught:
        sandbox.apply(POD, timeout=10)
    assert type(caught.value) is InfraError  # not ApplyRejected: the student loses no points
    assert "the cluster's policy refused Pod web" in caught.value.problem
    assert 'cannot create resource "pods"' in caught.value.problem
    assert "--backend kind" in caught.value.fix
    assert len(kube_api.mock[f"post {PODS}"]) == 1  # not retried until the timeout


def test_apply_retries_while_the_new_quota_has_no_status(kube_api, sandbox):
    kube_api.fail(f"post {PODS}", 403, "Forbidden", 'pods "web" is forbidden: status unknown for quota: '
                  "k8s101-quota, resource: limits.memory", times=2)
    sandbox.apply(POD, timeout=10)
    assert len(kube_api.mock[f"post {PODS}"]) == 3


def test_a_pod_beyond_the_runs_own_limits_is_rejected_as_the_students(kube_api, sandbox):
    message = 'pods "web" is forbidden: maximum memory usage per Container is 1Gi, but limit is 4Gi'
    kube_api.fail(f"post {PODS}", 403, "Forbidden", message)
    with pytest.raises(ApplyRejected) as caught:
        sandbox.apply(POD, timeout=10)
    assert message in str(caught.value)


@pytest.mark.parametrize(("image", "reason", "message", "seen"), [
    ("nginx:1.25", "ErrImagePull", 'failed to pull and unpack image "docker.io/library/nginx:1.25": failed to copy: '
     "httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/"
     "sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit",
     "PullingImage"),
    ("docker.io/library/nginx:1.25", "ErrImagePull", 'failed to pull image "nginx:1.25": failed to do request: '
     "Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\": dial tcp: lookup "
     "registry-1.docker.io on 10.96.0.10:53: no such host", "PullingImage"),
    ("busybox:1.36", "ErrImagePull", 'failed to pull image "busybox:1.36": Get "https://registry-1.docker.io/v2/": '
     "tls: failed to verify certificate: x509: certificate signed by unknown authority", "PullingImage"),
    ("busybox:1.36", "ErrImagePull", "rpc error: code = DeadlineExceeded desc = context deadline exceeded (Client."
     "Timeout exceeded while awaiting headers)", "PullingImage"),
    ("nginx:1.25", "ImagePullBackOff", 'Back-off pulling image "nginx:1.25"', "PullingImage"),
    # the registry says it does not exist, or the image is not the lab's: the student's
    ("nginx:1.25", "ErrImagePull", 'failed to pull and unpack image "docker.io/library/nginx:1.25": failed to '
     'resolve reference "docker.io/library/nginx:1.25": docker.io/library/nginx:1.25: not found', "ErrImagePull"),
    ("nginx:1.255", "ErrImagePull", "429 Too Many Requests - Server message: toomanyrequests", "ErrImagePull"),
    ("nginx:1.255", "ImagePullBackOff", 'Back-off pulling image "nginx:1.255"', "ImagePullBackOff"),
    ("ngnix:1.25", "ErrImagePull", "pull access denied, repository does not exist or may require authorization: "
     "server message: insufficient_scope: authorization failed", "ErrImagePull"),
])
def test_only_a_pull_the_registry_refuses_for_good_is_an_image_error(kube_api, sandbox, image, reason, message,
                                                                     seen):
    store_pod(kube_api, status={"phase": "Pending", "containerStatuses": [
        {"name": "app", "image": image, "imageID": "", "ready": False, "restartCount": 0,
         "state": {"waiting": {"reason": reason, "message": message}}}]})
    kube_api.mock.objects["v1/pods", NS, "web"].patch({"spec": {"containers": [{"name": "app", "image": image}]}})
    [container] = sandbox.state("web").containers
    assert (container.reason, container.message) == (seen, message)


def test_the_pulling_reason_is_named_in_the_backend():
    from graders.backends import kube

    assert kube.PULLING == "PullingImage"


def test_log_api_errors_are_infra_errors_not_empty_logs(kube_api, sandbox):
    kube_api.fail(f"get {PODS}/web/log", 500, "InternalError", "Get https://172.18.0.2:10250/...: EOF")
    with pytest.raises(InfraError) as caught:
        sandbox.logs("web", "app")
    assert "logs of container app of Pod web" in caught.value.problem and "EOF" in caught.value.problem


def test_close_deletes_the_pods_at_once_before_the_namespace(kube_api, sandbox):
    sandbox.apply(POD, timeout=5)
    sandbox.apply({**POD, "metadata": {"name": "sidecar"}}, timeout=5)
    sandbox.close()
    deletes = [(r.url.path, r.params.get("gracePeriodSeconds")) for r in kube_api.mock["delete"]]
    assert sorted(deletes[:2]) == [(f"{PODS}/sidecar", "0"), (f"{PODS}/web", "0")]
    assert deletes[2:] == [(f"/api/v1/namespaces/{NS}", "0")]
    [last] = kube_api.mock[f"delete /api/v1/namespaces/{NS}"]
    assert not [r for r in kube_api.mock["get"] if r.id > last.id]  # namespace termination is not waited for


# -- proxies and stalled API servers ----------------------------------------------------------------

def test_a_loopback_api_server_is_not_reached_through_the_proxy(kubeconfig, proxy):
    assert check_reachable(api_client(kubeconfig, None), "kind", tried=[], fix="") == "v1.36.1"
    assert proxy.connections == 0


def test_a_remote_api_server_still_uses_the_proxy(tmp_path, proxy):
    from graders.backends.kube import load_configuration

    remote = write_kubeconfig(tmp_path / "remote", "https://k8s.example.edu:6443")
    assert load_configuration(remote, None).proxy == proxy.url


def run_exec(sandbox, timeout: float) -> tuple[object, float]:
    """sandbox.exec in a thread, given at most 10 s more than its timeout: (result or error, seconds)."""
    outcome: dict = {}

    def target() -> None:
        start = time.monotonic()
        try:
            outcome["result"] = sandbox.exec("web", "app", ["true"], timeout=timeout)
        except Exception as error:
            outcome["result"] = error
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout + 10)
    assert not thread.is_alive(), "exec was still blocked 10 s after its timeout"
    return outcome["result"], outcome["seconds"]


def test_exec_against_a_server_that_never_answers_ends_within_its_timeout(sandbox, silent_server, tmp_path):
    silent = write_kubeconfig(tmp_path / "silent", silent_server.url)
    sandbox._make_client = lambda: api_client(silent, None)  # the API stalls after the namespace exists
    error, seconds = run_exec(sandbox, timeout=1.5)
    assert isinstance(error, InfraError), error
    assert "within 1.5 s" in error.problem and "--timeout-exec" in error.fix
    assert seconds < 5
    assert silent_server.connections == 1


def test_exec_to_a_loopback_server_bypasses_the_proxy(sandbox, silent_server, proxy, tmp_path):
    silent = write_kubeconfig(tmp_path / "silent", silent_server.url)
    sandbox._make_client = lambda: api_client(silent, None)
    error, _ = run_exec(sandbox, timeout=1)
    assert isinstance(error, InfraError), error
    assert (silent_server.connections, proxy.connections) == (1, 0)


# -- one client for the run -------------------------------------------------------------------------

PLUGIN = """import json, sys
with open(sys.argv[1], "a") as log:
    log.write("ran\\n")
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"token": "from-the-plugin"}}))
"""


def test_the_context_backend_runs_the_credential_plugin_once(kube_api, kubeconfig_env, tmp_path):
    runs = tmp_path / "plugin-runs"
    (tmp_path / "plugin.py").write_text(PLUGIN)
    config = json.loads(kubeconfig_env.read_text())
    [user] = [u for u in config["users"] if u["name"] == "fake"]
    user["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
                             "args": [str(tmp_path / "plugin.py"), str(runs)], "interactiveMode": "Never"}}
    kubeconfig_env.write_text(json.dumps(config))
    backend = ContextBackend("fake")
    for run_id in ("run1", "run2"):
        sandbox = backend.open_sandbox("1.1", run_id)
        sandbox.apply(POD, timeout=5)
        sandbox.state("web")
        sandbox.close()
    backend.reap_stale(3600)
    assert runs.read_text().splitlines() == ["ran"]  # gke-gcloud-auth-plugin takes seconds per run
    assert {r.headers["Authorization"] for r in kube_api.mock["post"]} == {"Bearer from-the-plugin"}


# -- image pulls in progress (issue 9 items 1 and 8) -------------------------------------------------

def serve_events(kube_api: KubeAPI, *events: tuple[str, str]) -> None:
    """The Pod's events, (reason, message) oldest first, as the API server lists them."""
    items = [{"metadata": {"name": f"web.{i}", "namespace": NS}, "type": "Normal", "reason": reason,
              "message": message, "involvedObject": {"kind": "Pod", "name": "web", "namespace": NS},
              "lastTimestamp": f"2026-01-01T10:00:0{i}Z"} for i, (reason, message) in enumerate(events)]
    kube_api.mock[f"get /api/v1/namespaces/{NS}/events"] << {
        "kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": items}


def test_a_container_whose_image_is_still_being_pulled_is_pulling(kube_api, kubeconfig):
    told = []
    box = KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster",
                            progress=told.append)
    try:
        store_pod(kube_api, status={"phase": "Pending"})
        serve_events(kube_api, ("Scheduled", "Successfully assigned"), ("Pulling", 'Pulling image "nginx:1.27"'))
        [container] = box.state("web").containers
        assert (container.reason, container.message) == ("PullingImage", "pulling nginx:1.27 …")
        box.state("web")
        assert told == ["pulling nginx:1.27 … (the first run downloads it; this can take minutes)"]  # once
    finally:
        box.close()


def test_a_container_whose_image_was_pulled_is_still_container_creating(kube_api, sandbox):
    store_pod(kube_api, status={"phase": "Pending"})
    serve_events(kube_api, ("Pulling", 'Pulling image "nginx:1.27"'),
                 ("Pulled", 'Successfully pulled image "nginx:1.27" in 2.1s (2.1s including waiting)'))
    [container] = sandbox.state("web").containers
    assert container.reason == "ContainerCreating"


# -- the pod proxy's own answers are the cluster's, not the Pod's (issue 19 item 4) --------------------

@pytest.mark.parametrize(("code", "reason", "message"), [
    (401, "Unauthorized", "Unauthorized"),
    (403, "Forbidden", f'pods "web" is forbidden: User "student" cannot get resource "pods/proxy" in API group "" '
                       f'in the namespace "{NS}"'),
    (429, "TooManyRequests", "Too many requests, please try again later."),
    (500, "InternalError", "Internal error occurred: etcdserver: request timed out"),
    (503, "ServiceUnavailable", "error trying to reach service: dial tcp 10.244.0.5:80: i/o timeout"),
    (503, "ServiceUnavailable", "error trying to reach service: dial tcp 10.244.0.5:80: connect: no route to host"),
    (502, "BadGateway", "error trying to reach service: EOF"),
])
def test_an_answer_of_the_api_server_itself_is_an_infra_error_naming_the_cluster(kube_api, sandbox, code, reason,
                                                                                 message):
    kube_api.fail(f"get {PODS}/web:80/proxy/", code, reason, message)
    with pytest.raises(InfraError) as caught:
        sandbox.http_get("web", 80, "/", timeout=5)
    assert type(caught.value) is InfraError  # no points lost
    assert f"the API server of namespace {NS} on a fake cluster answered for Pod web:80 itself" in \
        caught.value.problem
    assert f"HTTP {code}" in caught.value.problem and message in caught.value.problem


def test_a_refused_connection_is_the_pod_with_nothing_listening(kube_api, sandbox):
    kube_api.fail(f"get {PODS}/web:8080/proxy/", 503, "ServiceUnavailable",
                  "error trying to reach service: dial tcp 10.244.0.5:8080: connect: connection refused")
    response = sandbox.http_get("web", 8080, "/", timeout=5)
    assert response.status is None and "connection refused" in response.error


@pytest.mark.parametrize("code", [403, 500, 503])
def test_the_pods_own_error_pages_are_its_answer(kube_api, sandbox, code):
    page = f"<html><head><title>{code}</title></head><body>nginx</body></html>".encode()
    kube_api.mock[f"get {PODS}/web:80/proxy/"] << kmock.Response(status=code, payload=page)
    assert sandbox.http_get("web", 80, "/", timeout=5).status == code


# -- what the node knows of the lab image (issue 19 item 2) ------------------------------------------

def store_node(kube_api: KubeAPI, images: list[list[str]]) -> None:
    kube_api.mock.resources["v1/nodes"] = kmock.ResourceInfo(kind="Node", namespaced=False)
    kube_api.mock.objects["v1/nodes", None, "k8s-101-control-plane"] = {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "k8s-101-control-plane"},
        "status": {"images": [{"names": names, "sizeBytes": 1} for names in images]}}


def test_the_lab_images_digests_are_those_its_node_lists(kube_api, sandbox):
    nginx, busybox = "ab" * 32, "cd" * 32
    store_node(kube_api, [[f"docker.io/library/import-2026-01-31@sha256:{nginx}", "docker.io/library/nginx:1.25"],
                          [f"docker.io/library/busybox@sha256:{busybox}", "docker.io/library/busybox:1.36"]])
    known = sandbox.image_digests("docker.io/library/nginx:1.25")
    assert set(known) == {nginx} and known.image_ids is False
    assert set(sandbox.image_digests("docker.io/library/busybox:1.36")) == {busybox}
    assert sandbox.image_digests("docker.io/library/nginx:1.27") is None  # not on the node (yet)


def test_a_context_that_may_not_read_nodes_knows_no_digests(kube_api, sandbox):
    kube_api.fail("get /api/v1/nodes", 403, "Forbidden", 'nodes is forbidden: User "student" cannot list nodes')
    assert sandbox.image_digests("docker.io/library/nginx:1.25") is None


# -- native sidecars need Kubernetes 1.29+ (issue 19, the fake cluster) --------------------------------

SIDECAR = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {
    "containers": [{"name": "app", "image": "nginx:1.25"}],
    "initContainers": [{"name": "log-shipper", "image": "busybox:1.36", "restartPolicy": "Always",
                        "command": ["sh", "-c", "tail -F /logs/access.log"]}]}}


def test_native_sidecars_on_a_cluster_older_than_1_29_are_the_clusters_limit(kube_api, kubeconfig):
    box = KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster",
                            version="v1.28.15")
    try:
        with pytest.raises(InfraError) as caught:
            box.apply(json.loads(json.dumps(SIDECAR)), timeout=5)
        assert type(caught.value) is InfraError  # not ApplyRejected: no points lost
        assert caught.value.problem.startswith(
            "your cluster is too old for native sidecars (Kubernetes 1.29+): Pod web runs log-shipper")
        assert "v1.28.15" in caught.value.problem and "--backend kind" in caught.value.fix
        assert not kube_api.mock[f"post {PODS}"]  # a 1.28 server would drop the field and hang the Pod
    finally:
        box.close()


@pytest.mark.parametrize("version", ["v1.29.0", "v1.36.1", "v1.30.2-gke.1", ""])
def test_native_sidecars_are_applied_where_the_cluster_runs_them(kube_api, kubeconfig, version):
    box = KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster",
                            version=version)
    try:
        box.apply(json.loads(json.dumps(SIDECAR)), timeout=5)
        assert len(kube_api.mock[f"post {PODS}"]) == 1
    finally:
        box.close()


def test_the_server_minor_version_is_read_from_any_build(kube_api):
    assert [kube.server_minor(v) for v in ("v1.28.0", "v1.36.1", "v1.29.3-gke.1200", "1.30+", "", "devel")] == [
        28, 36, 29, 30, None, None]
