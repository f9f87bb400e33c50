"""graders.checks.expect against an in-memory sandbox: no podman, no cluster, milliseconds."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from graders.backends.base import ApplyRejected, ContainerState, ExecResult, HttpResponse, PodState
from graders.checks import expect
from graders.errors import CheckFailed
from graders.lab import Lab
from graders.manifests import Submission
from graders.run import LabRun, Timeouts

POD: dict[str, Any] = yaml.safe_load("""
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
  annotations: {description: hello}
spec:
  nodeSelector: {kubernetes.io/os: linux}
  initContainers:
    - {name: shipper, image: busybox:1.36, restartPolicy: Always}
  containers:
    - {name: helper, image: busybox:1.36}
    - name: nginx
      image: docker.io/library/nginx:1.25
      ports: [{name: http, containerPort: 80}]
      resources:
        requests: {cpu: 0.1, memory: "67108864"}
        limits: {cpu: 500m, memory: 128Mi}
""")


@dataclass
class FakeSandbox:
    """The Sandbox protocol over dicts: states as given, exec answered by a function of argv."""

    states: dict[str, PodState | None]
    answer: Callable[[list[str]], ExecResult] = lambda argv: ExecResult(0, "", "")
    http: Callable[[str], HttpResponse] = lambda url: HttpResponse(200, "")  # by URL, from the grader's side
    description: str = "a fake sandbox"
    calls: list[str] = field(default_factory=list)

    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        self.calls.append("apply")

    def state(self, pod: str) -> PodState | None:
        self.calls.append("state")
        return self.states.get(pod)

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        self.calls.append(f"exec {container} {argv[0]}")
        return self.answer(argv)

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        url = f"http://localhost:{port}{path}"
        self.calls.append(f"http {url}")
        return self.http(url)

    def first_process_status(self, pod: str, container: str, timeout: float) -> str | None:
        result = self.exec(pod, container, ["cat", "/proc/1/status"], timeout)
        return result.stdout if result.exit_code == 0 else None

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        return ""

    def events(self, pod: str) -> list[str]:
        return []

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        return True

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        state = self.states.get(name) if kind == "Pod" else None
        return {"kind": kind, "metadata": {"name": name}, "spec": state.spec} if state else None

    def node_labels(self) -> dict[str, frozenset[str]] | None:
        return None

    def leftovers(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    probes_readiness = False

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        raise NotImplementedError("FakeSandbox fakes no TCP connection")

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        raise NotImplementedError("FakeSandbox fakes no volume")

    def image_digests(self, image: str) -> set[str] | None:
        return None  # cannot know, as on a cluster

    def running_program(self, pod: str, container: str, image: str, program: str) -> None:
        return None  # cannot see, as on a cluster


def running(pod: dict[str, Any], phase: str = "Running", reason: str = "", **extra: Any) -> PodState:
    containers = tuple(ContainerState(c["name"], c["image"], running=not reason, ready=not reason, reason=reason)
                       for c in pod["spec"]["containers"])
    return PodState(name=pod["metadata"]["name"], phase=phase, labels=dict(pod["metadata"].get("labels") or {}),
                    spec=copy.deepcopy(pod["spec"]), containers=containers, **extra)


def make_run(tmp_path: Path, pod: dict[str, Any], sandbox: FakeSandbox | None = None) -> LabRun:
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(pod))
    submission = Submission(folder=tmp_path, expected_pods=("web",), files=["web.yaml"], pods={"web": pod})
    sandbox = sandbox or FakeSandbox({"web": running(pod)})
    return LabRun(lab=Lab("9.9", "test", pods=["web"]), submission=submission, sandbox=sandbox,
                  timeouts=Timeouts(apply=1, ready=0.3, exec=0.3, delete=1))


def failure(call: Callable[[], Any]) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        call()
    return caught.value


# -- quantities -------------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [("500m", 0.5), ("0.5", "500m"), ("128Mi", 134217728), ("1Gi", "1024Mi"),
                                  ("1k", "1e3"), ("1M", 1000000), (".5", "500m"), ("100n", "0.0000001")])
def test_equal_quantities_parse_equal(a: Any, b: Any) -> None:
    assert expect.parse_quantity(a) == expect.parse_quantity(b)


def test_quantities_keep_their_scale() -> None:
    assert expect.parse_quantity("5") == 5 and expect.parse_quantity("128M") == Decimal(128_000_000)
    assert expect.parse_quantity("128M") != expect.parse_quantity("128Mi")


@pytest.mark.parametrize("bad", ["", "12 Mi", "abc", "1mi", "Mi", True, None, "1.2.3"])
def test_malformed_quantities_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        expect.parse_quantity(bad)


# -- matching a partial tree -----------------------------------------------------------------------
def test_a_pod_matches_its_own_fields_in_other_notations() -> None:
    wanted = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "nginx", "image": "nginx:1.25", "ports": [{"name": "http", "containerPort": 80}],
         "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 0.5, "memory": "134217728"}}}]}}
    assert expect.mismatches(wanted, POD) == []


def test_containers_match_by_name_with_the_students_index() -> None:
    wanted = {"spec": {"containers": [{"name": "nginx", "resources": {"limits": {"cpu": "250m"}}}]}}
    assert [str(m) for m in expect.mismatches(wanted, POD)] == [
        "spec.containers[1].resources.limits.cpu: expected 250m (= 0.25); found '500m' (= 0.5)"]


def test_a_native_sidecar_is_found_among_init_containers() -> None:
    wanted = {"spec": {"containers": [{"name": "shipper", "image": "busybox:1.37"}]}}
    assert [m.path for m in expect.mismatches(wanted, POD)] == ["spec.initContainers[0].image"]


def test_a_plain_init_container_is_not_one_of_the_containers() -> None:
    pod = copy.deepcopy(POD)
    del pod["spec"]["initContainers"][0]["restartPolicy"]  # runs to completion before the containers start
    found = expect.mismatches({"spec": {"containers": [{"name": "shipper"}]}}, pod)
    assert [str(m) for m in found] == ["spec.containers: expected an entry named shipper; found names helper, nginx"]
    assert expect.mismatches({"spec": {"initContainers": [{"name": "shipper", "image": "busybox:1.36"}]}}, pod) == []


def test_a_missing_container_lists_the_names_there_are() -> None:
    found = expect.mismatches({"spec": {"containers": [{"name": "app"}]}}, POD)
    assert [str(m) for m in found] == [
        "spec.containers: expected an entry named app; found names helper, nginx, shipper"]


def test_a_quoted_number_is_not_a_number() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["ports"][0]["containerPort"] = "80"
    wanted = {"spec": {"containers": [{"name": "nginx", "ports": [{"name": "http", "containerPort": 80}]}]}}
    found = expect.mismatches(wanted, pod)
    assert [str(m) for m in found] == [
        "spec.containers[1].ports[0].containerPort: expected the number 80; found the text '80': remove the quotes"]


def test_a_missing_field_and_a_malformed_quantity_are_reported() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["resources"]["limits"]["memory"] = "128 Mi"
    found = expect.mismatches({"spec": {"restartPolicy": "Always", "containers": [
        {"name": "nginx", "resources": {"limits": {"memory": "128Mi"}}}]}}, pod)
    assert [m.path for m in found] == ["spec.restartPolicy", "spec.containers[1].resources.limits.memory"]
    assert "nothing: the field is missing" in found[0].found and "not a quantity" in found[1].found


def test_a_matcher_accepts_a_port_by_number_or_by_name() -> None:
    nginx = POD["spec"]["containers"][1]
    matcher = expect.port_matcher(nginx, 80)
    assert matcher.accepts(80) and matcher.accepts("http")
    assert not matcher.accepts(8080) and not matcher.accepts("web") and not matcher.accepts("80")
    assert expect.port_of(nginx, "http") == 80 and expect.port_of(nginx, "nope") is None


def test_a_missing_mapping_is_reported_at_its_leaves() -> None:
    pod = copy.deepcopy(POD)
    del pod["metadata"]["labels"]
    found = expect.mismatches({"metadata": {"labels": {"app": "hello"}}, "spec": {"volumes": [{"name": "v"}],
                                                                               "securityContext": {}}}, pod)
    assert [str(m) for m in found] == [
        "metadata.labels.app: expected 'hello'; found nothing: the field is missing",
        "spec.volumes: expected an entry named v; found no entries",
        "spec.securityContext: expected {}; found nothing: the field is missing"]  # an empty mapping is itself


def test_declares_port_accepts_the_number_named_or_not_and_says_what_is_declared() -> None:
    matcher = expect.declares_port(80)
    assert matcher.accepts([{"containerPort": 80}]) and matcher.accepts([{"name": "http", "containerPort": 80}])
    assert matcher.accepts([{"containerPort": 8080}, {"containerPort": 80}])
    assert not matcher.accepts([{"containerPort": 8080}]) and not matcher.accepts([{"containerPort": "80"}])
    assert not matcher.accepts(None) and not matcher.accepts([{"containerPort": True}])
    pod = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}, {"containerPort": "80"}]}]}}
    found = expect.mismatches({"spec": {"containers": [{"name": "c", "ports": matcher}]}}, pod)
    assert [str(m) for m in found] == ["spec.containers[0].ports: expected a port with containerPort: 80; "
                                       "found containerPort: 8080, containerPort: '80'"]
    found = expect.mismatches({"spec": {"containers": [{"name": "c", "ports": matcher}]}},
                              {"spec": {"containers": [{"name": "c"}]}})
    assert [str(m) for m in found] == ["spec.containers[0].ports: expected a port with containerPort: 80; "
                                       "found nothing: the field is missing"]


def test_only_container_gives_the_name_or_names_the_file_and_what_is_there(tmp_path: Path) -> None:
    single = copy.deepcopy(POD)
    single["spec"]["containers"] = [POD["spec"]["containers"][1]]
    del single["spec"]["initContainers"]
    assert expect.only_container(make_run(tmp_path, single), "web", hint="h") == "nginx"
    failed = failure(lambda: expect.only_container(make_run(tmp_path, POD), "web", hint="one, please"))
    assert failed.observed == ("web.yaml: spec.containers: expected exactly one container; found 3 "
                               "(helper, nginx, shipper)")  # a native sidecar is a container too
    assert failed.hint == "one, please"


def test_containers_named_are_exactly_those_in_any_order(tmp_path: Path) -> None:
    run = make_run(tmp_path, POD)
    expect.containers_named(run, "web", ["shipper", "nginx", "helper"], hint="")
    failed = failure(lambda: expect.containers_named(run, "web", ["nginx", "shipper"], hint="h"))
    assert failed.observed == ("web.yaml: spec.containers: expected containers named nginx, shipper; "
                               "found helper, nginx, shipper")  # an extra container fails too


# -- spec_matches: the student's file, then the cluster's copy ------------------------------------------
def test_spec_matches_names_the_file_and_field(tmp_path: Path) -> None:
    run = make_run(tmp_path, POD)
    failed = failure(lambda: expect.spec_matches(
        run, "web", {"spec": {"containers": [{"name": "nginx", "resources": {"requests": {"memory": "64M"}}}]}},
        what="64M", hint="h"))
    assert failed.observed == ("web.yaml: spec.containers[1].resources.requests.memory: "
                               "expected 64M (= 64000000); found '67108864' (= 67108864)")
    assert failed.expected == "Pod web: 64M" and failed.hint == "h"
    assert failed.details == [("What the cluster shows", "STATUS Running, READY 2/2")]


def test_spec_matches_reads_the_clusters_copy_too(tmp_path: Path) -> None:
    cluster = running(POD)
    cluster.spec["containers"][1]["image"] = "nginx:1.24"  # what a mutating webhook could do
    run = make_run(tmp_path, POD, FakeSandbox({"web": cluster}))
    failed = failure(lambda: expect.spec_matches(
        run, "web", {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}, what="w", hint=""))
    assert failed.observed == "the cluster reports: spec.containers[1].image: expected nginx:1.25; found 'nginx:1.24'"
    expect.spec_matches(run, "web", {"spec": {"containers": [{"name": "nginx", "ports": [{"name": "http"}]}]}},
                        what="w", hint="")


def test_a_pod_never_applied_is_not_graded(tmp_path: Path) -> None:
    run = make_run(tmp_path, POD)
    run.submission.pods.clear()
    run.submission.rejected_pods["web"] = "web.yaml"
    assert "not graded" in failure(lambda: expect.spec_matches(run, "web", {}, what="", hint="")).observed


def test_a_limit_below_its_request_is_refused_as_the_api_server_would(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["resources"]["requests"]["memory"] = "256Mi"
    failed = failure(lambda: expect.limits_not_below_requests(make_run(tmp_path, pod), "web"))
    assert ("web.yaml: spec.containers[1].resources.requests.memory: 256Mi is more than its limit 128Mi"
            in failed.observed)
    expect.limits_not_below_requests(make_run(tmp_path, POD), "web")
    refused = make_run(tmp_path, pod)  # a cluster refuses it: the message still names the field
    refused.apply_errors["web"] = ApplyRejected("422 Unprocessable Entity")
    failed = failure(lambda: expect.limits_not_below_requests(refused, "web"))
    assert "256Mi is more than its limit 128Mi" in failed.observed


# -- waiting for the Pod ---------------------------------------------------------------------------
def test_an_unmatched_node_selector_fails_at_once_without_waiting(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux", "disktype": "ssd"}
    sandbox = FakeSandbox({"web": running(pod, phase="Pending")})
    run = make_run(tmp_path, pod, sandbox)
    failed = failure(lambda: expect.wait_started(run, "web"))
    assert "stays Pending: its nodeSelector asks for a node labelled disktype=ssd" in failed.observed
    assert sandbox.calls == []  # not one look at the Pod: no wait
    assert failure(lambda: expect.wait_started(run, "web")) is failed  # remembered for the later checks


def test_a_fatal_reason_fails_fast_and_pending_times_out_with_the_last_state(tmp_path: Path) -> None:
    sandbox = FakeSandbox({"web": running(POD, phase="Pending", reason="ErrImagePull")})
    failed = failure(lambda: expect.wait_started(make_run(tmp_path, POD, sandbox), "web"))
    assert "container helper: ErrImagePull" in failed.observed
    sandbox = FakeSandbox({"web": running(POD, phase="Pending", reason="ContainerCreating")})
    failed = failure(lambda: expect.wait_started(make_run(tmp_path, POD, sandbox), "web"))
    assert failed.expected == "Pod web Running within 0.3 s" and "STATUS Pending" in failed.observed


# -- observed state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnnotatedPodState(PodState):
    annotations: dict[str, str] = field(default_factory=dict)


def test_labels_are_read_back_from_the_cluster(tmp_path: Path) -> None:
    cluster = running(POD)
    cluster.labels.clear()
    cluster.labels.update({"app": "web2"})  # the YAML says app: web; only the backend's word counts
    failed = failure(lambda: expect.metadata_observed(make_run(tmp_path, POD, FakeSandbox({"web": cluster})),
                                                      "web", labels={"app": "web", "tier": "frontend"}))
    assert "label app: 'web2', not 'web'; no label tier (labels present: app)" in failed.observed


def test_annotations_come_from_the_backend_when_it_reports_them(tmp_path: Path) -> None:
    state = running(POD)
    cluster = AnnotatedPodState(**{f: getattr(state, f) for f in state.__dataclass_fields__}, annotations={})
    run = make_run(tmp_path, POD, FakeSandbox({"web": cluster}))
    failed = failure(lambda: expect.metadata_observed(run, "web", annotations={"description": "hello"}))
    assert failed.observed == "the cluster reports: no annotation description (annotations present: none)"
    expect.metadata_observed(make_run(tmp_path, POD), "web", labels={"app": "web"},
                             annotations={"description": "hello"})


def environ(*pairs: str) -> Callable[[list[str]], ExecResult]:
    return lambda argv: ExecResult(0, "\0".join(("PATH=/bin", "HOSTNAME=web", *pairs)) + "\0", "")


def test_env_is_read_inside_the_container(tmp_path: Path) -> None:
    sandbox = FakeSandbox({"web": running(POD)}, environ("GREETNG=Hello\nthere"))
    run = make_run(tmp_path, POD, sandbox)
    failed = failure(lambda: expect.env_observed(run, "web", "nginx", {"GREETING": "Hello\nthere"}, hint="h"))
    assert failed.observed == "GREETING is not set (variables you set that it has: GREETNG)"
    assert sandbox.calls[-1] == "exec nginx cat"
    ok = make_run(tmp_path, POD, FakeSandbox({"web": running(POD)}, environ("GREETING=Hello\nthere")))
    expect.env_observed(ok, "web", "nginx", {"GREETING": "Hello\nthere"}, hint="h")


def test_a_page_is_served_or_the_last_answer_is_shown(tmp_path: Path) -> None:
    sandbox = FakeSandbox({"web": running(POD)}, http=lambda url: HttpResponse(200, "<h1>Welcome to nginx!</h1>"))
    run = make_run(tmp_path, POD, sandbox)
    failed = failure(lambda: expect.page_served(run, "web", "nginx", port=80, text="Written", what="the page",
                                                hint="h"))
    assert failed.observed == "HTTP 200, an answer without 'Written': 'Welcome to nginx!'"
    expect.page_served(run, "web", "nginx", port=80, text="Welcome", what="the page", hint="h")
    assert not [call for call in sandbox.calls if call.startswith("exec")]  # never the student's programs


def test_a_port_silent_through_one_wait_gets_one_try_from_the_next_check(tmp_path: Path) -> None:
    """Each check waits up to the exec timeout for a server to answer; once a port stayed silent that long,
    the next check of it tries once instead of waiting again (a student's verdict is not delayed twice)."""
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["readinessProbe"] = {"httpGet": {"path": "/", "port": 80}}
    refused = FakeSandbox({"web": running(pod)}, http=lambda url: HttpResponse(None, error="Connection refused"))
    run = make_run(tmp_path, pod, refused)
    run.timeouts = Timeouts(apply=1, ready=1, exec=1, delete=1)

    def timed(call: Callable[[], Any]) -> tuple[float, CheckFailed, int]:
        before, began = len(refused.calls), time.monotonic()
        failed = failure(call)
        return time.monotonic() - began, failed, len([c for c in refused.calls[before:] if c.startswith("http")])

    waited, failed, requests = timed(lambda: expect.page_served(run, "web", "nginx", port=80, text="Written",
                                                                what="the page", hint="h"))
    assert waited >= 1 and requests > 1 and failed.observed == "no answer: Connection refused"
    took, failed, requests = timed(lambda: expect.readiness_probe_answers(run, "web", "nginx"))
    assert requests == 1 and took < waited / 2 and failed.observed.startswith("nothing answers there")
    # an answer, even a wrong one, is not silence: another check still gets its whole wait
    answering = FakeSandbox({"web": running(POD)}, http=lambda url: HttpResponse(404, "Not Found"))
    run = make_run(tmp_path, POD, answering)
    run.timeouts = Timeouts(apply=1, ready=1, exec=1, delete=1)
    for _ in range(2):
        began = time.monotonic()
        failure(lambda: expect.page_served(run, "web", "nginx", port=80, text="Written", what="the page", hint="h"))
        assert time.monotonic() - began >= 1


def test_the_readiness_probe_is_made_from_the_graders_side(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
    urls: list[str] = []

    def http(url: str) -> HttpResponse:
        urls.append(url)
        return HttpResponse(404 if url.endswith("/healthz") else 200)
    failed = failure(lambda: expect.readiness_probe_answers(make_run(tmp_path, pod, FakeSandbox({"web": running(pod)},
                                                                                                 http=http)),
                                                            "web", "nginx"))
    assert urls == ["http://localhost:80/healthz"]
    assert "it gets HTTP 404: the kubelet never marks the container Ready" in failed.observed
    pod["spec"]["containers"][1]["readinessProbe"]["httpGet"]["path"] = "/"
    run = make_run(tmp_path, pod, FakeSandbox({"web": running(pod)}, http=http))
    expect.readiness_probe_answers(run, "web", "nginx")


def test_a_probe_port_that_nothing_serves_gets_no_answer(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["readinessProbe"] = {"httpGet": {"path": "/", "port": 8080}}
    refused = FakeSandbox({"web": running(pod)}, http=lambda url: HttpResponse(None, error="refused"))
    run = make_run(tmp_path, pod, refused)
    assert "nothing answers there" in failure(lambda: expect.readiness_probe_answers(run, "web", "nginx")).observed


def test_phase_is_the_clusters(tmp_path: Path) -> None:
    assert expect.phase_is(make_run(tmp_path, POD), "web", "Running").phase == "Running"
    failed = failure(lambda: expect.phase_is(make_run(tmp_path, POD), "web", "Succeeded"))
    assert failed.observed == "STATUS Running, READY 2/2"


def test_a_200_with_another_page_is_a_verdict_at_once_not_after_the_exec_timeout(tmp_path: Path) -> None:
    """A server that answered 200 has served its page: asking again within the exec timeout changes nothing
    (issue 22, author 4: 12.5 s instead of 2.2 s). Any other status is still waited for (a 404 while a
    sidecar writes the page)."""
    from graders.checks import network

    sandbox = FakeSandbox({"web": running(POD)}, http=lambda url: HttpResponse(200, "<h1>Welcome to nginx!</h1>"))
    run = make_run(tmp_path, POD, sandbox)
    run.timeouts = Timeouts(apply=1, ready=1, exec=30, delete=1)
    failed = failure(lambda: expect.page_served(run, "web", "nginx", port=80, text="Written", what="the page",
                                                hint="h"))
    assert failed.observed == "HTTP 200, an answer without 'Written': 'Welcome to nginx!'"
    failed = failure(lambda: network.serves_page(run, "web", "nginx", port=80, page_text="Written",
                                                 what="the page", hint="h"))
    assert "got HTTP 200, a page without 'Written'" in failed.observed
    assert len([call for call in sandbox.calls if call.startswith("http")]) == 2  # one request each, no retry


def test_the_readmes_custom_check_example_runs_and_fails_in_the_students_terms(tmp_path: Path) -> None:
    """README, "Adding a lab": the custom check with CheckFailed that asks for an order (issue 22, author 3)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = readme.split("<!-- example: custom check", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"lab": Lab("9.9", "test", pods=["web"])}
    exec(compile(example, "README example", "exec"), namespace)
    pod = copy.deepcopy(POD)
    pod["spec"]["initContainers"] = [{"name": "check-page", "image": "busybox:1.36"},
                                     {"name": "write-page", "image": "busybox:1.36"}]
    failed = failure(lambda: namespace["test_init_order"](make_run(tmp_path, pod)))
    assert failed.observed == "web.yaml: spec.initContainers: found check-page, write-page"
    pod["spec"]["initContainers"].reverse()
    namespace["test_init_order"](make_run(tmp_path, pod))  # the right order passes
    # and spec_matches itself matches named lists in any order, as the README says
    expect.spec_matches(make_run(tmp_path, pod), "web", {"spec": {"initContainers": [
        {"name": "check-page"}, {"name": "write-page"}]}}, what="both", hint="h")
