"""Reading submissions: files, documents, schema and the safety policy (offline, no cluster)."""

from __future__ import annotations

import subprocess
import sys
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
    # an empty document between them; PyYAML would write it as `--- null`, which kubectl refuses (apimachinery
    # pkg/util/yaml/decoder.go YAMLReader: only a comment may follow `---` on its line)
    (tmp_path / "all.yml").write_text(yaml.safe_dump(first) + "---\n---\n" + yaml.safe_dump(second))
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
    assert submission.why_not_gradable("my-first-pod") == (
        "no Pod named my-first-pod was found in the files that could be read; a.yaml could not be read "
        "(see [manifests] above)")
    assert "x.yaml: no Pod named my-first-pod in the files that could be read: fix a.yaml first" in [
        str(p).replace(str(tmp_path), "x.yaml") for p in submission.problems]


def test_nothing_from_a_rejected_file_is_applied(tmp_path: Path) -> None:
    write(tmp_path, "pods.yaml", pod("my-first-pod"), pod("app-with-sidecar", hostNetwork=True))
    submission = load_submission(tmp_path, PODS)
    assert submission.pods == {}
    assert set(submission.rejected_pods) == set(PODS)
    assert [str(p) for p in submission.problems] == [
        "pods.yaml: document 2, spec.hostNetwork: hostNetwork shares the node's namespaces with the Pod: remove it"]
    assert "not applied: pods.yaml has problems" in str(submission.why_not_gradable("my-first-pod"))


@pytest.mark.parametrize(("documents", "message"), [
    ([["a", "list"]], "the file is a list (`[...]` or `- ` items), not a Kubernetes object"),
    (["a string"], "expected a Kubernetes object (a mapping), found str"),
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
    """A quoted number: what was expected and found (lab 1.2's README promises these words), then the words
    of the API server's decoder, with the Go struct and type the schema's definitions name."""
    bad = pod("my-first-pod")
    bad["spec"]["containers"][0]["ports"] = [{"containerPort": "80"}]
    write(tmp_path, "x.yaml", bad)
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert ("x.yaml: spec.containers[0].ports[0].containerPort: expected the number 80; found the text '80': remove "
            "the quotes (a cluster refuses it: json: cannot unmarshal string into Go struct field "
            "ContainerPort.spec.containers.ports.containerPort of type int32)") in problems


def problems_of(tmp_path: Path, document: dict) -> list[str]:
    write(tmp_path, "x.yaml", document)
    return [str(p) for p in load_submission(tmp_path, PODS).problems]


def with_container(**fields) -> dict:
    document = pod("my-first-pod")
    document["spec"]["containers"][0].update(fields)
    return document


@pytest.mark.parametrize(("document", "words"), [
    # kubectl's decoder refuses metadata whose map values are not text (observed with kubectl 1.28-1.33:
    # `unable to decode "x.yaml": json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations
    # of type string`), so a number there refuses the whole file, as here
    ({**pod("my-first-pod"), "metadata": {"name": "my-first-pod", "annotations": {"build": 42}}},
     'metadata.annotations.build: expected text; found the number 42: put it in quotes, "42" (kubectl refuses the '
     "file: unable to decode: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations of "
     "type string)"),
    ({**pod("my-first-pod"), "metadata": {"name": "my-first-pod", "labels": {"enabled": True}}},
     "metadata.labels.enabled: expected text; found the yes/no value true"),
    ({**pod("my-first-pod"), "metadata": {"name": "my-first-pod", "labels": 5}},
     "metadata.labels: expected a mapping (key: value lines, indented under it); found the number 5 (kubectl "
     "refuses the file: unable to decode: json: cannot unmarshal number into Go struct field "
     "ObjectMeta.metadata.labels of type map[string]string)"),
    (with_container(env=[{"name": "A", "value": 1}]),
     "spec.containers[0].env[0].value: expected text; found the number 1"),
    (with_container(command="nginx -g"),
     "spec.containers[0].command: expected a list (items starting with '- ', or [a, b]); found the text 'nginx -g'"),
    (pod("my-first-pod", terminationGracePeriodSeconds="2"),
     "spec.terminationGracePeriodSeconds: expected the number 2; found the text '2': remove the quotes (a cluster "
     "refuses it: json: cannot unmarshal string into Go struct field PodSpec.spec.terminationGracePeriodSeconds of "
     "type int64)"),
    (with_container(ports=[{"name": "http"}]),
     "spec.containers[0].ports[0].containerPort: Required value (containerPort is needed here: the port your program "
     "listens on, e.g. 80)"),
    (with_container(resources={"limits": {"cpu": True}}),
     "spec.containers[0].resources.limits.cpu: expected a quantity such as 500m, 0.5 or 128Mi; found the yes/no "
     "value true"),
])
def test_a_value_of_the_wrong_type_is_named_with_the_decoders_words(tmp_path: Path, document: dict,
                                                                     words: str) -> None:
    problems = problems_of(tmp_path, document)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize(("field", "where", "words"), [
    # issue 22, item 2: the lab itself suggests terminationGracePeriodSeconds; under a container it is unknown
    ("terminationGracePeriodSeconds", "container",
     "spec.containers[0]: unknown field \"terminationGracePeriodSeconds\": terminationGracePeriodSeconds belongs to "
     "the Pod's `spec` (beside `containers:`) or to a probe (`readinessProbe`, `livenessProbe` or `startupProbe`), "
     "not to a container (a cluster refuses it: strict decoding error: unknown field "
     "\"spec.containers[0].terminationGracePeriodSeconds\")"),
    ("volumes", "container", "volumes belongs to the Pod's `spec` (beside `containers:`), not to a container"),
    ("containerPort", "container", "containerPort belongs to a port (an entry of a container's `ports:`), not to a "
                                   "container"),
    ("restartPolicy", "metadata", "restartPolicy belongs to the Pod's `spec` (beside `containers:`) or to a "
                                  "container, not to `metadata`"),
    ("labels", "spec", "labels belongs to `metadata`, not to the Pod's `spec`"),
    ("containers", "top", "containers belongs to the Pod's `spec` (beside `containers:`), not to the top of the file"),
    ("imagePullPolicy", "spec", "imagePullPolicy belongs to a container, not to the Pod's `spec`"),
    ("Image", "container", 'unknown field "Image": field names are case-sensitive: write image'),
    ("imagePullPolcy", "container", 'unknown field "imagePullPolcy": did you mean imagePullPolicy?'),
    ("colour", "container", 'unknown field "colour": a container has no such field'),
])
def test_an_unknown_field_says_where_it_belongs(tmp_path: Path, field: str, where: str, words: str) -> None:
    """From the schema's definitions (graders/validation/schema.py), not from a hand-made list."""
    document = pod("my-first-pod")
    target = {"container": document["spec"]["containers"][0], "metadata": document["metadata"],
              "spec": document["spec"], "top": document}[where]
    target[field] = 2 if field == "terminationGracePeriodSeconds" else ([] if field in ("volumes", "containers")
                                                                          else "x")
    problems = problems_of(tmp_path, document)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize(("api_version", "kind", "words"), [
    # the example: kubectl's mapping says `no matches for kind "Pod" in version "apps/v1"`
    ("apps/v1", "Pod", 'x.yaml: apiVersion: no matches for kind "Pod" in version "apps/v1" (kubectl finds no Pod in '
                       "apps/v1: a Pod's apiVersion is v1, so write apiVersion: v1)"),
    ("v1", "pod", 'x.yaml: kind: no matches for kind "pod" in version "v1" (kinds are case-sensitive: write kind: '
                  "Pod)"),
    # k8s.io/kubectl pkg/validation/validation.go, getObjectKind: kubectl's default (strict) validation
    (None, "Pod", "x.yaml: apiVersion: apiVersion not set (kubectl refuses the file: a Pod's apiVersion is v1: add "
                  "apiVersion: v1)"),
    ("v1", None, "x.yaml: kind: kind not set (kubectl refuses the file: every object says what it is; add kind: Pod "
                 "beside apiVersion)"),
])
def test_a_pod_with_the_wrong_api_version_or_kind_is_named_in_kubectls_words(tmp_path: Path, api_version, kind,
                                                                            words: str) -> None:
    document = {key: value for key, value in {**pod("my-first-pod"), "apiVersion": api_version, "kind": kind}.items()
                if value is not None}
    write(tmp_path, "x.yaml", document)
    submission = load_submission(tmp_path, PODS)
    assert words in [str(p) for p in submission.problems]
    # still the lab's Pod, refused: checks say "not applied", not "no Pod named my-first-pod was found"
    assert submission.why_not_gradable("my-first-pod") == \
        "Pod my-first-pod was not applied: x.yaml has problems (see [manifests] above)"


def test_a_pod_refused_for_its_api_version_still_counts_as_a_definition(tmp_path: Path) -> None:
    """The issue's "manifests failed, but the Pod was still created and graded": a Pod refused for its kind
    or apiVersion was no definition at all, so a second copy in another file was applied and graded while
    manifests listed the first. Each copy is the student's Pod: which one was meant? Neither is applied."""
    broken = {**pod("my-first-pod"), "apiVersion": "apps/v1"}
    write(tmp_path, "a.yaml", pod("app-with-sidecar"), pod("my-first-pod"))
    write(tmp_path, "b.yaml", broken)
    submission = load_submission(tmp_path, PODS)
    assert "my-first-pod" not in submission.pods
    assert list(submission.pods) == ["app-with-sidecar"]
    assert [str(p) for p in submission.problems] == [
        'b.yaml: apiVersion: no matches for kind "Pod" in version "apps/v1" (kubectl finds no Pod in apps/v1: a '
        "Pod's apiVersion is v1, so write apiVersion: v1)",
        "b.yaml: metadata.name: Pod my-first-pod is defined more than once (also in a.yaml): keep one"]


def test_empty_folder(tmp_path: Path) -> None:
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert problems[0].endswith("no .yaml or .yml file found here")


def container(**fields) -> dict:
    return {"name": "c", "image": "busybox:1.36", **fields}


def sc(**fields) -> dict:
    """A container with this securityContext."""
    return container(securityContext=fields)


# Pod Security "baseline" (Kubernetes 1.36): every field it forbids, and the path we report.
@pytest.mark.parametrize(("spec", "path"), [
    ({"hostNetwork": True}, "spec.hostNetwork"),
    ({"hostPID": True}, "spec.hostPID"),
    ({"hostIPC": True}, "spec.hostIPC"),
    ({"volumes": [{"name": "v", "hostPath": {"path": "/"}}]}, "spec.volumes[0].hostPath"),
    ({"containers": [sc(privileged=True)]}, "spec.containers[0].securityContext.privileged"),
    ({"initContainers": [sc(privileged=True)]}, "spec.initContainers[0].securityContext.privileged"),
    ({"ephemeralContainers": [sc(privileged=True)]}, "spec.ephemeralContainers[0].securityContext.privileged"),
    ({"containers": [container(ports=[{"containerPort": 80, "hostPort": 8080}])]},
     "spec.containers[0].ports[0].hostPort"),
    ({"containers": [sc(capabilities={"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]})]},
     "spec.containers[0].securityContext.capabilities.add[1]"),
    ({"containers": [sc(capabilities={"add": ["ALL"]})]}, "spec.containers[0].securityContext.capabilities.add[0]"),
    ({"containers": [sc(capabilities={"add": ["CAP_NET_RAW"]})]},
     "spec.containers[0].securityContext.capabilities.add[0]"),
    ({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
     "spec.securityContext.sysctls[0].name"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "spec.securityContext.seccompProfile.type"),
    ({"containers": [sc(seccompProfile={"type": "Unconfined"})]},
     "spec.containers[0].securityContext.seccompProfile.type"),
    ({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}, "spec.securityContext.appArmorProfile.type"),
    ({"containers": [sc(appArmorProfile={"type": "Unconfined"})]},
     "spec.containers[0].securityContext.appArmorProfile.type"),
    ({"securityContext": {"seLinuxOptions": {"type": "spc_t"}}}, "spec.securityContext.seLinuxOptions.type"),
    ({"containers": [sc(seLinuxOptions={"user": "system_u"})]},
     "spec.containers[0].securityContext.seLinuxOptions.user"),
    ({"initContainers": [sc(seLinuxOptions={"role": "sysadm_r"})]},
     "spec.initContainers[0].securityContext.seLinuxOptions.role"),
    ({"containers": [sc(procMount="Unmasked")]}, "spec.containers[0].securityContext.procMount"),
    ({"securityContext": {"windowsOptions": {"hostProcess": True}}},
     "spec.securityContext.windowsOptions.hostProcess"),
    ({"containers": [sc(windowsOptions={"hostProcess": True})]},
     "spec.containers[0].securityContext.windowsOptions.hostProcess"),
    ({"containers": [container(livenessProbe={"httpGet": {"host": "10.0.0.1", "port": 80}})]},
     "spec.containers[0].livenessProbe.httpGet.host"),
    ({"containers": [container(readinessProbe={"tcpSocket": {"host": "localhost", "port": 80}})]},
     "spec.containers[0].readinessProbe.tcpSocket.host"),
    ({"initContainers": [container(startupProbe={"httpGet": {"host": "example.com", "port": 80}})]},
     "spec.initContainers[0].startupProbe.httpGet.host"),
    ({"containers": [container(lifecycle={"preStop": {"httpGet": {"host": "example.com", "port": 80}}})]},
     "spec.containers[0].lifecycle.preStop.httpGet.host"),
])
def test_policy_rejects_with_the_field_path(spec: dict, path: str) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [container()], **spec}}
    assert [found for found, _ in policy.violations(manifest)] == [path]


def test_policy_rejects_an_unconfined_apparmor_annotation() -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {
        "container.apparmor.security.beta.kubernetes.io/c": "unconfined"}}, "spec": {"containers": [container()]}}
    assert [found for found, _ in policy.violations(manifest)] == [
        "metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]"]


def test_policy_allows_what_baseline_allows() -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {
        "container.apparmor.security.beta.kubernetes.io/c": "runtime/default"}}, "spec": {
        "volumes": [{"name": "v", "emptyDir": {}}],
        "securityContext": {"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}],
                            "seccompProfile": {"type": "RuntimeDefault"}, "seLinuxOptions": {"type": "container_t",
                                                                                               "level": "s0:c1"}},
        "containers": [container(ports=[{"containerPort": 80, "hostPort": 0}],
                                 livenessProbe={"httpGet": {"path": "/", "port": 80}},
                                 securityContext={"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"],
                                                                   "drop": ["ALL"]},
                                                  "procMount": "Default", "privileged": False,
                                                  "appArmorProfile": {"type": "Localhost",
                                                                      "localhostProfile": "p"}})]}}
    assert policy.violations(manifest) == []


def test_unmasked_proc_is_allowed_in_a_user_namespace() -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "hostUsers": False, "containers": [sc(procMount="Unmasked")]}}
    assert policy.violations(manifest) == []


@pytest.mark.parametrize("context", [
    {"capabilities": {"add": [{"a": 1}]}}, {"seccompProfile": {"type": ["x"]}}, {"seLinuxOptions": {"type": ["a"]}},
    {"appArmorProfile": {"type": {"a": 1}}}])
def test_policy_survives_lists_and_mappings_where_names_belong(context: dict) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"securityContext": {"sysctls": [{"name": ["a"]}]}, "containers": [sc(**context)]}}
    assert len(policy.violations(manifest)) == 2


# -- messages a beginner can act on (issue 11.3) ---------------------------------------------------
@pytest.mark.parametrize(("text", "line"), [
    ("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: my-first-pod\n", 4),
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: my-first-pod\nspec:\n  containers:\n  \t- name: c\n", 7),
    ("apiVersion: v1\nkind: Pod\nmetadata:\n    name: my-first-pod\n\t  labels: {}\n", 5),
])
def test_a_tab_is_named_with_its_line(tmp_path: Path, text: str, line: int) -> None:
    (tmp_path / "pod.yaml").write_text(text)
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert f"pod.yaml: not valid YAML: line {line}: YAML does not allow tabs; indent with spaces" in problems[0]
    assert "\\t" not in problems[0] and "token" not in problems[0]


def test_an_ordinary_yaml_error_keeps_its_words(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text("a:\n  b: 1\n   c: 2\n")
    assert "line 3, column 5: mapping values are not allowed here" in str(load_submission(tmp_path, PODS).problems[0])


@pytest.mark.parametrize(("spec", "message"), [
    ({"containers": {"app": {"image": "nginx:1.25"}}},
     "spec.containers: must be a list of `- name: ...` items, but it is a mapping (app:); start each item with "
     "'- ', e.g. `- name: app` followed by its fields"),
    ({"containers": [{"name": "c", "image": "nginx:1.25", "ports": {"containerPort": 80}}]},
     "spec.containers[0].ports: must be a list of items, but it is a mapping (containerPort:); start each item "
     "with '- ', e.g. `- containerPort: 80`"),
    ({"containers": [{"name": "c", "image": "nginx:1.25"}], "volumes": {"logs": {"emptyDir": {}}}},
     "spec.volumes: must be a list of items, but it is a mapping (logs:)"),
])
def test_a_mapping_where_a_list_belongs(tmp_path: Path, spec: dict, message: str) -> None:
    write(tmp_path, "pod.yaml", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "my-first-pod"}, "spec": spec})
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert any(message in p for p in problems), problems
    assert not any("at least one container" in p for p in problems), problems


def test_a_sidecar_written_as_its_own_pod_is_recognised(tmp_path: Path) -> None:
    app = pod("app-with-sidecar")
    write(tmp_path, "app-with-sidecar.yaml", app)
    write(tmp_path, "log-shipper.yaml", pod("log-shipper"))
    write(tmp_path, "my-first-pod.yaml", pod("my-first-pod"))
    submission = load_submission(tmp_path, PODS, {"app-with-sidecar": ["app", "log-shipper"]})
    assert [str(p) for p in submission.problems] == [
        "log-shipper.yaml: metadata.name: log-shipper is written as a Pod of its own, but the lab asks for it as a "
        "container of Pod app-with-sidecar: a sidecar is a second entry of app-with-sidecar's spec.containers "
        "(`- name: log-shipper`), not a second Pod, because only containers of one Pod share localhost and volumes"]
    assert list(submission.pods) == ["my-first-pod"]  # app-with-sidecar alone is not what the lesson asks
    why = submission.why_not_gradable("app-with-sidecar")
    assert why is not None
    assert "log-shipper is written as a Pod of its own (log-shipper.yaml)" in why
    assert "must be a second entry of app-with-sidecar's `containers:`" in why
    assert "only containers of one Pod share localhost and volumes" in why
    # without the lab's containers, it is only an unexpected Pod
    plain = load_submission(tmp_path, PODS)
    assert sorted(plain.pods) == sorted(PODS) and "found 'log-shipper'" in str(plain.problems[0])


def test_a_symlink_loop_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").symlink_to(tmp_path / "missing.yaml")
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        assert f"{name}: is a link that leads nowhere (a loop of links, or a missing file)" in problems[:3][
            ["a.yaml", "b.yaml", "c.yaml"].index(name)]


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "9" * 4301, "0x" + "f" * 5000, "1" * 21])
def test_a_number_longer_than_python_converts_is_a_problem(tmp_path: Path, number: str) -> None:
    (tmp_path / "pod.yaml").write_text(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: my-first-pod\n"
                                       f"spec:\n  containers:\n    - name: c\n      image: nginx:1.25\n"
                                       f"      ports:\n        - containerPort: {number}\n")
    problem = str(load_submission(tmp_path, PODS).problems[0])
    assert f"pod.yaml: not valid YAML: line 10, column 26: the number {number[:12]}... ({len(number)} characters) " \
           f"is larger than any Kubernetes field takes (64 bits)" in problem


def test_the_manifests_check_explains_the_sidecar_misconception(tmp_path: Path) -> None:
    from graders.checks.manifests import manifests_valid
    from graders.errors import CheckFailed

    write(tmp_path, "app-with-sidecar.yaml", pod("app-with-sidecar"))
    write(tmp_path, "log-shipper.yaml", pod("log-shipper"))
    with pytest.raises(CheckFailed) as failed:
        manifests_valid(load_submission(tmp_path, PODS[1:], {"app-with-sidecar": ["app", "log-shipper"]}))
    assert failed.value.hint.startswith("a sidecar is a second container of the same Pod, not a Pod of its own: "
                                        "move log-shipper under app-with-sidecar's `containers:`")
    assert "accepted by the API server" in failed.value.expected


def test_an_extra_pod_named_like_a_container_the_pod_has_does_not_withhold_the_pod(tmp_path: Path) -> None:
    app = pod("app-with-sidecar")
    app["spec"]["containers"] = [{"name": "app", "image": "nginx:1.25"}, {"name": "log-shipper", "image": "busybox"}]
    write(tmp_path, "app-with-sidecar.yaml", app)
    write(tmp_path, "log-shipper.yaml", pod("log-shipper"))
    submission = load_submission(tmp_path, PODS[1:], {"app-with-sidecar": ["app", "log-shipper"]})
    assert list(submission.pods) == ["app-with-sidecar"] and submission.why_not_gradable("app-with-sidecar") is None
    assert "log-shipper.yaml: metadata.name: log-shipper is written as a Pod of its own" in str(submission.problems[0])


def test_a_file_with_todos_left_is_checked_in_full_once_they_are_filled_in(tmp_path: Path) -> None:
    started = pod("my-first-pod")
    started["spec"]["containers"][0]["image"] = "TODO: the image"
    started["spec"]["containers"][0]["prots"] = []  # a typo in a part already written
    write(tmp_path, "x.yaml", started)
    problems = load_submission(tmp_path, ("my-first-pod",)).problems
    assert [(p.where, p.todo) for p in problems] == [("spec.containers[0].image", True)]
    started["spec"]["containers"][0]["image"] = "nginx:1.25"
    write(tmp_path, "x.yaml", started)
    shown = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert any("spec.containers[0]: unknown field" in p and "prots" in p for p in shown), shown


def test_what_is_unsafe_is_refused_even_with_todos_left(tmp_path: Path) -> None:
    unsafe = pod("my-first-pod", volumes=[{"name": "host", "hostPath": {"path": "/"}}])
    unsafe["spec"]["containers"][0]["image"] = "TODO"
    write(tmp_path, "x.yaml", unsafe)
    problems = [str(p) for p in load_submission(tmp_path, PODS).problems]
    assert any("spec.volumes[0].hostPath" in p for p in problems), problems


def test_the_untouched_starter_never_loads_the_schema_validator() -> None:
    """Reading the starter of every lab (all TODOs) costs no schema validator: about 0.1 s of a run
    that only says 'fill in the TODOs'."""
    code = """
import importlib.util, sys
from pathlib import Path
from graders.manifests import load_submission
for rubric in sorted(Path("labs").glob("*/test_lab_*.py")):
    spec = importlib.util.spec_from_file_location("rubric", rubric)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    problems = load_submission(rubric.parent, module.lab.pods).problems
    assert problems and all(p.todo for p in problems), (rubric, problems)
print("kubernetes_validate" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
