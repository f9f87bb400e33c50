"""Objects of any kind: the submission keeps them per kind, the kube backend creates, reads, lists and
deletes them on their REST path (kmock over real HTTP), and capabilities decide how checks judge."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders import capabilities as can
from graders.backends.base import MANAGED_BY, RUN_LABEL, ApplyRejected
from graders.backends.kube import KubernetesSandbox, api_client, sandbox_namespace
from graders.backends.resources import RESOURCES
from graders.checks import expect, probes
from graders.errors import CheckFailed, InfraError
from graders.lab import Lab
from graders.manifests import load_submission
from graders.policy import Allowances
from graders.run import LabRun, Timeouts
from tests.kube_fakes import KubeAPI  # the kube_api fixture comes through tests/conftest.py
from tests.test_expect import POD, FakeSandbox, make_run, running

RUN_ID = "0b1ec7s0"
NS = sandbox_namespace("2.1", RUN_ID)
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}
DEPLOYMENT: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}}
WEB_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}


# -- reading a submission per kind ------------------------------------------------------------------

def write(folder: Path, name: str, *documents: dict) -> None:
    (folder / name).write_text(yaml.safe_dump_all(documents))


def test_a_pod_and_a_service_of_the_same_name_are_both_kept_per_kind(tmp_path: Path) -> None:
    write(tmp_path, "web.yaml", WEB_POD, SERVICE)
    lab = Lab("2.1", "Services", pods=["web"], objects=[("Service", "web")])
    submission = load_submission(tmp_path, lab.pods, allows=lab.allows, objects=lab.objects)
    assert submission.problems == []
    assert submission.pods["web"]["kind"] == "Pod" and submission.objects["Pod"] is submission.pods
    assert submission.objects["Service"]["web"]["spec"]["ports"] == [{"port": 80, "targetPort": 80}]
    assert "namespace" not in submission.objects["Service"]["web"]["metadata"]  # the grader picks it
    assert [item["kind"] for item in submission.applicable()] == ["Service", "Pod"]  # other kinds first
    assert submission.why_not_gradable("web", "Service") is None
    assert submission.origins["Service"] == {"web": "web.yaml"}


def test_a_kind_the_lab_does_not_allow_is_refused_in_its_terms(tmp_path: Path) -> None:
    write(tmp_path, "web.yaml", WEB_POD, SERVICE)
    submission = load_submission(tmp_path, ["web"])  # a lab of Pods only
    assert [str(p) for p in submission.problems] == [
        "web.yaml: document 2, kind: this lab asks only for Pods (apiVersion: v1, kind: Pod), found apiVersion: v1, "
        "kind: Service"]
    assert submission.pods == {}  # nothing from a file with a problem is applied


def test_a_missing_service_is_named_and_cannot_be_graded(tmp_path: Path) -> None:
    write(tmp_path, "web.yaml", WEB_POD)
    submission = load_submission(tmp_path, ["web"], objects=[("Service", "web")],
                                 allows=Allowances(kinds=frozenset({"Pod", "Service"})))
    assert [str(p) for p in submission.problems] == [
        f"{tmp_path}: no Service named web in any file (check metadata.name and kind: Service)"]
    assert submission.why_not_gradable("web", "Service") == \
        f"no Service named web was found in the .yaml/.yml files of {tmp_path}"
    assert submission.why_not_gradable("web") is None  # the Pod itself is fine


def test_a_deployments_template_keeps_the_pod_policy(tmp_path: Path) -> None:
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["template"]["spec"]["hostNetwork"] = True
    write(tmp_path, "web.yaml", bad)
    submission = load_submission(tmp_path, [], objects=[("Deployment", "web")],
                                 allows=Allowances(kinds=frozenset({"Deployment"})))
    assert [str(p) for p in submission.problems] == [
        "web.yaml: spec.template.spec.hostNetwork: hostNetwork shares the node's namespaces with the Pod: remove it"]
    assert submission.rejected["Deployment"] == {"web": "web.yaml"}


def test_a_kind_allowed_but_not_declared_is_accepted_under_any_name(tmp_path: Path) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}}
    write(tmp_path, "web.yaml", WEB_POD, config)
    lab = Lab("2.2", "ConfigMaps", pods=["web"], allows=Allowances(kinds=frozenset({"Pod", "ConfigMap"})))
    submission = load_submission(tmp_path, lab.pods, allows=lab.allows, objects=lab.objects)
    assert submission.problems == [] and set(submission.objects["ConfigMap"]) == {"settings"}


# -- the kube backend's generic path ----------------------------------------------------------------

@pytest.fixture
def sandbox(kube_api: KubeAPI, tmp_path: Path):
    kubeconfig = kube_api.kubeconfig(tmp_path / "kubeconfig", context="fake")
    box = KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster")
    yield box
    box.close()


def test_every_kind_of_the_table_has_its_rest_path() -> None:
    assert RESOURCES["Service"].path("ns", "web") == "/api/v1/namespaces/ns/services/web"
    assert RESOURCES["Deployment"].path("ns") == "/apis/apps/v1/namespaces/ns/deployments"
    assert RESOURCES["Deployment"].api_version == "apps/v1"


@pytest.mark.parametrize(("item", "path"), [(SERVICE, f"/api/v1/namespaces/{NS}/services"),
                                             (DEPLOYMENT, f"/apis/apps/v1/namespaces/{NS}/deployments")])
def test_apply_read_leftovers_and_delete_work_for_any_kind(kube_api, sandbox, item, path):
    kind = item["kind"]
    sandbox.apply(copy.deepcopy(item), timeout=5)
    [post] = kube_api.mock[f"post {path}"]
    assert post.data["metadata"]["namespace"] == NS
    assert post.data["metadata"]["labels"][RUN_LABEL] == RUN_ID
    assert post.data["metadata"]["labels"]["app.kubernetes.io/managed-by"] == MANAGED_BY
    assert sandbox.read(kind, "web")["spec"] == item["spec"]
    assert sandbox.leftovers() == [f"{kind.lower()} web"]
    assert sandbox.delete("web", grace_seconds=None, timeout=5, kind=kind)
    assert [request.method for request in kube_api.mock[f"delete {path}/web"]] == ["DELETE"]
    assert sandbox.read(kind, "web") is None and sandbox.leftovers() == []


def test_a_rejected_service_is_the_students(kube_api, sandbox):
    kube_api.fail(f"post /api/v1/namespaces/{NS}/services", 422, "Invalid",
                  'Service "web" is invalid: spec.ports[0].port: Invalid value: 0')
    with pytest.raises(ApplyRejected, match="spec.ports"):
        sandbox.apply(copy.deepcopy(SERVICE), timeout=5)


def test_a_kind_missing_from_the_table_is_an_infrastructure_error(sandbox):
    with pytest.raises(InfraError, match="cannot create objects of kind CronJob"):
        sandbox.apply({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x"}}, timeout=5)


def test_node_labels_are_read_from_the_nodes_once(kube_api, sandbox):
    for name, disk in (("one", "ssd"), ("two", "hdd")):
        kube_api.mock.objects["v1/nodes", None, name] = {
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"disktype": disk}}}
    assert sandbox.node_labels() == {"disktype": frozenset({"ssd", "hdd"})}
    sandbox.node_labels()
    assert len(kube_api.mock["get /api/v1/nodes"]) == 1


def test_a_context_that_may_not_list_nodes_falls_back_to_the_linux_labels(kube_api, sandbox):
    """A namespace-bound account (an instructor's context) gets 403 for nodes: no check may error for it."""
    kube_api.fail("get /api/v1/nodes", 403, "Forbidden", 'nodes is forbidden: User "student" cannot list '
                  'resource "nodes" in API group "" at the cluster scope')
    assert sandbox.node_labels() is None


# -- checks judged by what the backend can do -------------------------------------------------------

class NodesSandbox(FakeSandbox):
    def node_labels(self):
        return {"kubernetes.io/os": frozenset({"linux"}), "disktype": frozenset({"ssd"})}


def test_a_node_selector_is_judged_on_the_nodes_where_the_backend_lists_them(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux", "disktype": "ssd"}
    run = make_run(tmp_path, pod, NodesSandbox({"web": running(pod)}))
    with pytest.raises(CheckFailed, match="disktype=ssd"):  # without the capability: only the well-known labels
        expect.wait_started(run, "web")
    run = make_run(tmp_path, pod, NodesSandbox({"web": running(pod)}))
    run.capabilities = frozenset({can.NODE_LABELS})
    assert expect.wait_started(run, "web").phase == "Running"
    pod["spec"]["nodeSelector"] = {"disktype": "nvme"}
    run = make_run(tmp_path, pod, NodesSandbox({"web": running(pod)}))
    run.capabilities = frozenset({can.NODE_LABELS})
    with pytest.raises(CheckFailed, match="asks for a node labelled disktype=nvme"):
        expect.wait_started(run, "web")


def test_where_the_kubelet_probes_readiness_the_grader_makes_no_request(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
    sandbox = FakeSandbox({"web": running(pod)})
    run = make_run(tmp_path, pod, sandbox)
    run.capabilities = frozenset({can.READINESS_PROBES})
    expect.readiness_probe_answers(run, "web", "nginx")  # every container is Ready: the kubelet's probe passed
    assert not [call for call in sandbox.calls if call.startswith("http")]
    state = running(pod)
    not_ready = replace(state, containers=(state.containers[0], replace(state.containers[1], ready=False)))
    sandbox = FakeSandbox({"web": not_ready})
    run = make_run(tmp_path, pod, sandbox)
    run.capabilities = frozenset({can.READINESS_PROBES})
    with pytest.raises(CheckFailed) as failed:
        expect.readiness_probe_answers(run, "web", "nginx")
    assert failed.value.expected.startswith("the readinessProbe of container nginx (GET http://localhost:80/healthz)")
    assert "READY 1/2" in failed.value.observed
    assert not [call for call in sandbox.calls if call.startswith("http")]


class ProbedSandbox(FakeSandbox):
    """The kubelet's view: the container turns Ready after `ready_after` reads of the state (never: None)."""

    def __init__(self, pod: dict[str, Any], ready_after: int | None) -> None:
        super().__init__({})
        state = running(pod)
        self.ready = state
        self.unready = replace(state, containers=(state.containers[0], replace(state.containers[1], ready=False)))
        self.ready_after = ready_after

    def state(self, pod: str):
        self.calls.append("state")
        reads = self.calls.count("state")
        return self.ready if self.ready_after is not None and reads > self.ready_after else self.unready

    def events(self, pod: str) -> list[str]:
        return ["Normal Started: Started container nginx",
                "Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404"]


def test_a_probe_the_kubelet_keeps_failing_is_judged_once_it_had_its_tries(tmp_path: Path, monkeypatch) -> None:
    """Not after the whole readiness deadline (180 s, for pulls on a cold cluster): after initialDelaySeconds,
    failureThreshold tries periodSeconds apart and their timeout, with the kubelet's own words."""
    monkeypatch.setattr(probes, "PROBE_MARGIN", 0.5)
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["readinessProbe"] = {
        "httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1, "failureThreshold": 1, "timeoutSeconds": 1}

    def graded(ready_after: int | None) -> tuple[float, CheckFailed | None]:
        run = make_run(tmp_path, pod, ProbedSandbox(pod, ready_after))
        run.capabilities = frozenset({can.READINESS_PROBES})
        run.timeouts = Timeouts(apply=1, ready=60, exec=0.3, delete=1)
        began = time.monotonic()
        try:
            expect.readiness_probe_answers(run, "web", "nginx")
        except CheckFailed as failure:
            return time.monotonic() - began, failure
        return time.monotonic() - began, None

    took, failed = graded(ready_after=None)
    assert failed is not None and 2.5 <= took < 60 / 2, took  # 1 + 1 + 0.5 s, not the ready deadline of 60
    assert "after 2.5 s" in failed.observed and (
        "the kubelet's last event: Readiness probe failed: HTTP probe failed with statuscode: 404" in failed.observed)
    assert failed.expected.startswith("the readinessProbe of container nginx (GET http://localhost:80/healthz)")
    took, failed = graded(ready_after=3)  # Ready within the window: passes
    assert failed is None and took < 2.5


def test_require_names_the_kind_of_an_object_that_was_refused(tmp_path: Path) -> None:
    write(tmp_path, "web.yaml", WEB_POD, SERVICE)
    lab = Lab("2.1", "Services", pods=["web"], objects=[("Service", "web")])
    submission = load_submission(tmp_path, lab.pods, allows=lab.allows, objects=lab.objects)
    applied: list[str] = []

    class Recording(FakeSandbox):
        def apply(self, item, timeout):
            applied.append(item["kind"])
            if item["kind"] == "Service":
                raise ApplyRejected("422 Invalid: spec.ports[0].port")

    run = LabRun(lab=lab, submission=submission, sandbox=Recording({}), timeouts=Timeouts())
    run.apply_all()
    assert applied == ["Service", "Pod"]
    run.require("web")  # the Pod was created
    with pytest.raises(CheckFailed, match="the cluster refused Service web: 422 Invalid"):
        run.require("web", kind="Service")
    assert json.dumps(sorted(run.apply_errors)) == '["Service/web"]'


# -- the generic path against the fake cluster (tests/cluster), which stores Services and ConfigMaps --

@pytest.mark.cluster
@pytest.mark.podman
def test_a_service_and_a_configmap_go_through_kube_py_to_the_fake_cluster(tmp_path: Path) -> None:
    from graders.backends.kube import ClusterBackend, load_configuration
    from tests.cluster.fixture import CONTEXT, fake_cluster
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"greeting": "hi"}}
    with fake_cluster(tmp_path) as cluster:
        backend = ClusterBackend(load_configuration(cluster.kubeconfig, CONTEXT), where="the fake cluster")
        box = backend.open_sandbox("2.1", RUN_ID)
        try:
            box.apply(copy.deepcopy(SERVICE), timeout=10)
            box.apply(copy.deepcopy(config), timeout=10)
            service, settings = box.read("Service", "web"), box.read("ConfigMap", "settings")
            assert service is not None and service["metadata"]["labels"][RUN_LABEL] == RUN_ID
            assert settings is not None and settings["data"] == {"greeting": "hi"}
            assert sorted(box.leftovers()) == ["configmap settings", "service web"]
            assert box.delete("web", grace_seconds=None, timeout=5, kind="Service")
            assert box.read("Service", "web") is None and box.leftovers() == ["configmap settings"]
        finally:
            box.close()


def test_cleanup_deletes_the_pods_then_the_other_objects_by_kind(tmp_path: Path) -> None:
    from graders.checks import lifecycle
    deleted: list[tuple[str, str]] = []

    class Deleting(FakeSandbox):
        def delete(self, name, grace_seconds, timeout, kind="Pod"):
            deleted.append((kind, name))
            return kind != "Service" or len(deleted) > 5  # the Service outlives the timeout

    run = make_run(tmp_path, POD, Deleting({"web": running(POD)}))
    run.submission.objects["Service"] = {"web": SERVICE}
    with pytest.raises(CheckFailed) as failed:
        lifecycle.deleted_cleanly(run, ["web"], objects=[("Service", "web")])
    assert deleted == [("Pod", "web"), ("Service", "web")]
    assert failed.value.observed == "Service web still exists after 1 s"
