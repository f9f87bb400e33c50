"""Reading submissions: files, documents, schema and the safety policy (offline, no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graders import policy
from graders.manifests import load_submission

PODS = ("my-first-pod", "app-with-sidecar")
REFERENCE = Path(__file__).parent / "submissions" / "1.1" / "reference"


def pod(name: str, **spec_extra) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], **spec_extra}}


def write(folder: Path, name: str, *documents) -> None:
    (folder / name).write_text(yaml.safe_dump_all(documents) if documents else "")


def test_reference_is_accepted_whole() -> None:
    submission = load_submission(REFERENCE, PODS)
    assert submission.problems == []
    assert sorted(submission.pods) == sorted(PODS)
    assert submission.files == ["app-with-sidecar.yaml", "my-first-pod.yaml"]


def test_one_multi_document_yml_file_with_namespaces(tmp_path: Path) -> None:
    first, second = pod("my-first-pod"), pod("app-with-sidecar")
    first["metadata"]["namespace"] = "default"
    write(tmp_path, "all.yml", first, None, second)
    (tmp_path / "notes.txt").write_text("not yaml: [")
    submission = load_submission(tmp_path, PODS)
    assert submission.problems == []
    assert "namespace" not in submission.pods["my-first-pod"]["metadata"]  # the grader picks it


def test_a_broken_file_does_not_stop_the_other_files_pod(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Pod\nmetadata:\n  name: my-first-pod\n   bad: indent\n")
    write(tmp_path, "b.yaml", pod("app-with-sidecar"))
    submission = load_submission(tmp_path, PODS)
    assert list(submission.pods) == ["app-with-sidecar"]
    assert any("a.yaml: not valid YAML: line 4" in str(p) for p in submission.problems)
    assert "no Pod named my-first-pod" in submission.why_not_gradable("my-first-pod")


def test_nothing_from_a_rejected_file_is_applied(tmp_path: Path) -> None:
    write(tmp_path, "pods.yaml", pod("my-first-pod"), pod("app-with-sidecar", hostNetwork=True))
    submission = load_submission(tmp_path, PODS)
    assert submission.pods == {}
    assert set(submission.rejected_pods) == set(PODS)
    assert [str(p) for p in submission.problems] == [
        "pods.yaml: document 2, spec.hostNetwork: hostNetwork shares the node's namespaces with the Pod"]
    assert "not applied: pods.yaml has problems" in submission.why_not_gradable("my-first-pod")


@pytest.mark.parametrize(("documents", "message"), [
    ([["a", "list"]], "expected a Kubernetes object (a mapping), found list"),
    ([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}], "this lab asks only for Pods"),
    ([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "my-first-pod"}}],
     "found apiVersion: apps/v1, kind: Deployment"),
    ([pod("hello")], "found 'hello'"),
    ([pod("my-first-pod"), pod("my-first-pod")], "Pod my-first-pod is defined more than once"),
    ([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "my-first-pod"}, "spec": {"contianers": []}}],
     "spec.containers: a Pod needs at least one container"),
])
def test_problems_are_reported_in_the_students_terms(tmp_path: Path, documents: list, message: str) -> None:
    write(tmp_path, "x.yaml", *documents)
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert any(message in p for p in problems), problems


def test_unknown_field_is_named(tmp_path: Path) -> None:
    bad = pod("my-first-pod")
    bad["spec"]["contianers"] = []
    write(tmp_path, "x.yaml", bad)
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert any("spec: unknown field" in p and "contianers" in p for p in problems), problems


def test_schema_error_names_the_field_path(tmp_path: Path) -> None:
    bad = pod("my-first-pod")
    bad["spec"]["containers"][0]["ports"] = [{"containerPort": "80"}]
    write(tmp_path, "x.yaml", bad)
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert "x.yaml: spec.containers[0].ports[0].containerPort: '80' is not of type 'integer'" in problems


def test_empty_folder(tmp_path: Path) -> None:
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert problems[0].endswith("no .yaml or .yml file found here")


def container(**fields) -> dict:
    return {"name": "c", "image": "busybox:1.36", **fields}


@pytest.mark.parametrize(("spec", "path"), [
    ({"hostNetwork": True}, "spec.hostNetwork"),
    ({"hostPID": True}, "spec.hostPID"),
    ({"hostIPC": True}, "spec.hostIPC"),
    ({"volumes": [{"name": "v", "hostPath": {"path": "/"}}]}, "spec.volumes[0].hostPath"),
    ({"containers": [container(securityContext={"privileged": True})]}, "spec.containers[0].securityContext.privileged"),
    ({"initContainers": [container(securityContext={"privileged": True})]},
     "spec.initContainers[0].securityContext.privileged"),
    ({"containers": [container(ports=[{"containerPort": 80, "hostPort": 8080}])]}, "spec.containers[0].ports[0].hostPort"),
    ({"containers": [container(securityContext={"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}})]},
     "spec.containers[0].securityContext.capabilities.add[1]"),
])
def test_policy_rejects_with_the_field_path(spec: dict, path: str) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [container()], **spec}}
    assert [found for found, _ in policy.violations(manifest)] == [path]


def test_policy_allows_baseline_capabilities_and_emptydir() -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "volumes": [{"name": "v", "emptyDir": {}}],
        "containers": [container(ports=[{"containerPort": 80}],
                                 securityContext={"capabilities": {"add": ["CAP_NET_BIND_SERVICE", "CHOWN"]}})]}}
    assert policy.violations(manifest) == []


def test_a_pod_defined_in_two_files_is_applied_from_neither(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", pod("my-first-pod"))
    write(tmp_path, "b.yaml", pod("my-first-pod"))
    submission = load_submission(tmp_path, PODS)
    assert "my-first-pod" not in submission.pods
    assert "b.yaml: metadata.name: Pod my-first-pod is defined more than once" in map(str, submission.problems)


def test_a_namespace_other_than_default_is_refused(tmp_path: Path) -> None:
    first, second = pod("my-first-pod"), pod("app-with-sidecar")
    first["metadata"]["namespace"] = "default"
    second["metadata"]["namespace"] = "kube-system"
    write(tmp_path, "a.yaml", first)
    write(tmp_path, "b.yaml", second)
    submission = load_submission(tmp_path, PODS)
    assert list(submission.pods) == ["my-first-pod"]
    assert [str(p) for p in submission.problems] == [
        "b.yaml: metadata.namespace: namespace 'kube-system': the grader runs your Pods in a namespace of its own; "
        "remove this line (namespace: default is fine)"]


def test_todo_placeholders_are_flagged_as_not_started(tmp_path: Path) -> None:
    starter = Path(__file__).resolve().parents[1] / "labs" / "1.1"
    submission = load_submission(starter, PODS)
    assert submission.problems and all(problem.todo for problem in submission.problems)
    assert submission.pods == {}
