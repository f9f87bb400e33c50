"""Evidence the student cannot script, and lifecycle as a cluster judges it.

The backends' grader-side operations (a request into the Pod's network, the shared volume's files,
the running image's identity) on real podman and on the kube backend against kmock; then graded
submissions that only such evidence, or a cluster's lifecycle rules, tell apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import kmock
import pytest
import yaml

from graders.backends.base import HttpResponse
from graders.backends.kube import KubernetesSandbox, api_client, sandbox_namespace
from graders.errors import InfraError
from tests.grading import REFERENCE, check_seconds, grade_lab, junit
from tests.kube_fakes import KubeAPI

RUN_ID = "ev12cd34"
NS = sandbox_namespace("1.1", RUN_ID)
PODS = f"/api/v1/namespaces/{NS}/pods"


# -- kube backend against kmock -----------------------------------------------------------------------

@pytest.fixture
def kube_sandbox(kube_api: KubeAPI, tmp_path: Path):
    kubeconfig = kube_api.kubeconfig(tmp_path / "kubeconfig")
    box = KubernetesSandbox(lambda: api_client(kubeconfig, None), NS, RUN_ID, where="a fake cluster")
    yield box
    box.close()


def store_pod(kube_api: KubeAPI, status: dict) -> None:
    kube_api.mock.objects["v1/pods", NS, "web"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": NS},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}, "status": status}


def test_kube_http_get_goes_through_the_pod_proxy_with_the_query(kube_api, kube_sandbox):
    page = b"<title>Welcome</title>"
    kube_api.mock[f"get {PODS}/web:80/proxy/"] << kmock.headers({"Content-Type": "text/html"}) << page
    response = kube_sandbox.http_get("web", 80, "/?k8s101-marker-abc", timeout=5)
    assert response == HttpResponse(status=200, body="<title>Welcome</title>")
    [request] = kube_api.mock[f"get {PODS}/web:80/proxy/"]
    assert "k8s101-marker-abc" in request.params  # the marker reaches the Pod as its query string


def test_kube_http_get_reports_an_unreachable_pod_as_no_answer(kube_api, kube_sandbox):
    kube_api.fail(f"get {PODS}/web:80/proxy/", 503, "ServiceUnavailable",
                  "error trying to reach service: dial tcp 10.244.0.5:80: connect: connection refused")
    response = kube_sandbox.http_get("web", 80, "/", timeout=5)
    assert response.status is None and "connection refused" in response.error


def test_kube_http_get_passes_on_the_pods_own_error_status(kube_api, kube_sandbox):
    kube_api.mock[f"get {PODS}/web:80/proxy/missing"] << kmock.Response(status=404, payload=b"<h1>404</h1>")
    assert kube_sandbox.http_get("web", 80, "/missing", timeout=5).status == 404


def test_kube_volume_files_are_read_by_an_ephemeral_busybox_container(kube_api: KubeAPI,
                                                                      kube_sandbox: KubernetesSandbox) -> None:
    store_pod(kube_api, {"phase": "Running"})
    patches: list[dict] = []

    def patch(request: kmock.Request) -> kmock.Payload:
        patches.append(request.data)
        [ephemeral] = request.data["spec"]["ephemeralContainers"]
        store_pod(kube_api, {"phase": "Running", "ephemeralContainerStatuses": [{
            "name": ephemeral["name"], "image": "busybox:1.36", "imageID": "", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})
        separator = ephemeral["command"][2].split('echo "', 1)[1].split(" ", 1)[0]
        kube_api.mock[f"get {PODS}/web/log"] << kmock.headers({"Content-Type": "text/plain"}) << (
            f"{separator} ./access.log\nGET /?k8s101-marker-abc\n\n{separator} ./sub/x\nhello\n").encode()
        return kube_api.mock.objects["v1/pods", NS, "web"].raw

    kube_api.mock[f"patch {PODS}/web/ephemeralcontainers"] << patch
    files = kube_sandbox.volume_files("web", "logs", timeout=5)
    assert files == {"access.log": "GET /?k8s101-marker-abc\n", "sub/x": "hello"}
    [ephemeral] = patches[0]["spec"]["ephemeralContainers"]
    assert ephemeral["image"] == "busybox:1.36"
    assert ephemeral["volumeMounts"] == [{"name": "logs", "mountPath": "/grader-volume", "readOnly": True}]
    assert "find . -type f" in ephemeral["command"][2]  # regular files only: no FIFO blocks the read


def test_kube_volume_files_wait_for_the_nodes_first_pull_of_busybox(kube_api, kube_sandbox):
    """The reader's exec timeout counts from its start: a node pulling busybox:1.36 for the first time
    (the ephemeral container waits in ContainerCreating meanwhile) is not the reader being slow."""
    store_pod(kube_api, {"phase": "Running"})
    pulling_for = 1.5  # seconds, three times the exec timeout below
    began: list[float] = []

    def patch(request: kmock.Request) -> kmock.Payload:
        [ephemeral] = request.data["spec"]["ephemeralContainers"]
        began.append(time.monotonic())
        separator = ephemeral["command"][2].split('echo "', 1)[1].split(" ", 1)[0]
        kube_api.mock[f"get {PODS}/web/log"] << kmock.headers({"Content-Type": "text/plain"}) << (
            f"{separator} ./access.log\nGET /\n").encode()

        def read(request: kmock.Request) -> kmock.Payload:
            done = time.monotonic() - began[0] > pulling_for
            state = {"terminated": {"exitCode": 0, "reason": "Completed"}} if done else {
                "waiting": {"reason": "ContainerCreating"}}
            store_pod(kube_api, {"phase": "Running", "ephemeralContainerStatuses": [{
                "name": ephemeral["name"], "image": "busybox:1.36", "imageID": "", "ready": False,
                "restartCount": 0, "state": state}]})
            return kube_api.mock.objects["v1/pods", NS, "web"].raw

        kube_api.mock[f"get {PODS}/web"] << read
        return kube_api.mock.objects["v1/pods", NS, "web"].raw

    kube_api.mock[f"patch {PODS}/web/ephemeralcontainers"] << patch
    assert kube_sandbox.volume_files("web", "logs", timeout=0.5) == {"access.log": "GET /"}
    assert time.monotonic() - began[0] > pulling_for


def test_kube_volume_files_time_out_as_an_infra_error(kube_api, kube_sandbox):
    store_pod(kube_api, {"phase": "Running"})
    kube_api.mock[f"patch {PODS}/web/ephemeralcontainers"] << (lambda request: kube_api.mock.objects[
        "v1/pods", NS, "web"].raw)
    with pytest.raises(InfraError, match="could not read volume logs of Pod web within 1 s"):
        kube_sandbox.volume_files("web", "logs", timeout=1)


def test_kube_state_carries_the_running_image_id(kube_api, kube_sandbox):
    store_pod(kube_api, {"phase": "Running", "containerStatuses": [{
        "name": "app", "image": "nginx:1.25", "ready": True, "restartCount": 0, "state": {"running": {}},
        "imageID": "docker.io/library/busybox@sha256:" + "ab" * 32}]})
    [app] = kube_sandbox.state("web").containers
    assert app.image_id == "docker.io/library/busybox@sha256:" + "ab" * 32


# -- podman backend: grader-side operations on real pods ----------------------------------------------

needs_podman = pytest.mark.podman
WEB = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {
    "containers": [
        {"name": "app", "image": "nginx:1.25", "volumeMounts": [{"name": "logs", "mountPath": "/var/log/nginx"}]},
        {"name": "side", "image": "busybox:1.36", "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
         "volumeMounts": [{"name": "logs", "mountPath": "/logs"}]}],
    "volumes": [{"name": "logs", "emptyDir": {}}]}}


@pytest.fixture
def podman_box():
    from graders.backends.podman import PodmanBackend
    box = PodmanBackend().open_sandbox("1.1", f"ev{os.getpid()}")
    yield box
    box.close()


def running(box, pod: str = "web", spec: dict = WEB):
    box.apply(json.loads(json.dumps(spec)), timeout=60)
    deadline = time.monotonic() + 30
    while not all(c.running for c in box.state(pod).containers):
        assert time.monotonic() < deadline, box.state(pod)
        time.sleep(0.2)
    return box.state(pod)


@needs_podman
def test_podman_http_get_is_made_from_a_grader_container_that_is_then_gone(podman_box):
    running(podman_box)
    page = podman_box.http_get("web", 80, "/?k8s101-marker-abc", timeout=5)  # its speed: scripts/benchmark.sh
    assert page.status == 200 and "Welcome to nginx!" in page.body
    assert podman_box.http_get("web", 80, "/missing", timeout=5).status == 404
    refused = podman_box.http_get("web", 81, "/", timeout=5)
    assert refused.status is None and "Connection refused" in refused.error
    assert podman_box.tcp_open("web", 80, timeout=3) and not podman_box.tcp_open("web", 81, timeout=3)
    assert not [item for item in podman_box.leftovers() if "-grader-" in item]  # --rm: no probe left


@needs_podman
def test_podman_volume_files_are_the_host_folder_without_fifos_or_symlinks(podman_box):
    running(podman_box)
    podman_box.http_get("web", 80, "/?k8s101-marker-abc", timeout=5)
    script = "mkfifo /logs/pipe; ln -s /etc/passwd /logs/passwd; mkdir /logs/d; echo hi > /logs/d/x"
    assert podman_box.exec("web", "side", ["sh", "-c", script], timeout=10).exit_code == 0
    files = podman_box.volume_files("web", "logs", timeout=5)  # returns at all: a FIFO opened for reading would block
    assert "k8s101-marker-abc" in files["access.log"]
    assert files["d/x"] == "hi\n" and "pipe" not in files and "passwd" not in files
    with pytest.raises(InfraError, match="cannot find the folder of volume nope"):
        podman_box.volume_files("web", "nope", timeout=5)


@needs_podman
def test_podman_state_names_the_image_that_really_runs(podman_box):
    state = running(podman_box)
    nginx, busybox = (podman_box.image_digests(f"docker.io/library/{i}") for i in ("nginx:1.25", "busybox:1.36"))
    assert state.container("app").image_id in nginx and state.container("side").image_id in busybox
    assert not nginx & busybox
    assert podman_box.image_digests("docker.io/library/nginx:9.99") == set()


@needs_podman
def test_podman_refuses_native_sidecars_within_seconds(podman_box):
    pod = json.loads(json.dumps(WEB))
    pod["spec"]["initContainers"] = [{"name": "shipper", "image": "busybox:1.36", "restartPolicy": "Always",
                                      "command": ["sleep", "600"]}]
    began = time.monotonic()
    with pytest.raises(InfraError, match="needs --backend kind") as refused:
        podman_box.apply(pod, timeout=60)
    assert time.monotonic() - began < 5 and podman_box.state("web") is None
    assert refused.value.fix.startswith("run `pytest labs/1.1 --backend kind`")  # the lab the sandbox grades


@needs_podman
def test_podman_keeps_a_pod_whose_grace_outlives_the_timeout_as_a_cluster_does(podman_box):
    pod = json.loads(json.dumps(WEB))
    pod["spec"]["terminationGracePeriodSeconds"] = 3600
    pod["spec"]["containers"][1]["command"] = ["sh", "-c", "trap 'echo TERM' TERM; while true; do sleep 1; done"]
    running(podman_box, spec=pod)
    assert podman_box.delete("web", grace_seconds=None, timeout=4) is False  # a cluster: still there at 4 s
    assert podman_box.state("web") is None  # but nothing is left behind on the machine


# -- graded submissions: lifecycle as a cluster judges it ---------------------------------------------

def variant(tmp_path: Path, edit) -> Path:
    """A copy of the reference solution, changed by edit(first_pod, sidecar_pod)."""
    folder = tmp_path / "submission"
    folder.mkdir()
    pods = {name: yaml.safe_load((REFERENCE / f"{name}.yaml").read_text())
            for name in ("my-first-pod", "app-with-sidecar")}
    edit(pods["my-first-pod"], pods["app-with-sidecar"])
    for name, pod in pods.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(pod))
    return folder


def graded(pytester: pytest.Pytester, folder: Path, *args: str) -> tuple[pytest.RunResult, dict]:
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", "podman", "--submission", str(folder), "--grade-report",
                       str(report), *args)
    checks = {check["id"]: check for check in json.loads(report.read_text())["checks"]}
    result.stdout.no_fnmatch_line("*Traceback*")
    return result, checks


def failed(checks: dict) -> dict[str, str]:
    return {cid: check["message"] for cid, check in checks.items() if not check["passed"]}


@needs_podman
def test_readiness_probes_run_by_the_grader_on_podman_judged_once_the_kubelet_had_its_tries(pytester, tmp_path):
    """Issue 21 §3: a readinessProbe that fails for a reason waiting does not change (a 404) is a verdict once the
    kubelet had its tries (initialDelaySeconds 0 + failureThreshold 3 x periodSeconds 1 + timeoutSeconds 1 = 4 s),
    not at the readiness deadline; the checks that need no Ready judge the running, unready Pod (`kubectl exec ...
    curl localhost` works on it) and pass."""
    def edit(first: dict, sidecar: dict) -> None:
        first["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 80},
                                                            "periodSeconds": 1}
        app, shipper = sidecar["spec"]["containers"]
        app["ports"][0]["name"] = "web"
        app["readinessProbe"] = {"httpGet": {"path": "/", "port": "web"}}  # a named port, answered 200
        shipper["readinessProbe"] = {"exec": {"command": ["test", "-e", "/logs/access.log"]}}

    result, checks = graded(pytester, variant(tmp_path, edit), "--timeout-ready", "120", *junit(pytester))
    assert set(failed(checks)) == {"first-pod-ready"}, failed(checks)
    assert "container nginx: running, not Ready (readinessProbe: httpGet :80/ready: HTTP 404): after 4 s" in \
        checks["first-pod-ready"]["message"]
    took = check_seconds(pytester)
    # judged after its tries (4 s), far from the 120 s deadline; first-pod-serves waits for nothing more
    assert 4 <= took["first-pod-ready"] < 120 / 2 and took["first-pod-serves"] < 120 / 2, took


@needs_podman
def test_a_container_finished_for_good_is_a_verdict_at_once(pytester, tmp_path):
    def edit(first: dict, sidecar: dict) -> None:
        first["spec"]["restartPolicy"] = "OnFailure"
        first["spec"]["containers"][0]["command"] = ["nginx", "-v"]  # exits 0: OnFailure leaves it finished

    result, checks = graded(pytester, variant(tmp_path, edit), "--timeout-ready", "300", *junit(pytester))
    assert set(failed(checks)) == {"first-pod-ready", "first-pod-serves"}, failed(checks)
    assert "restartPolicy: OnFailure will not restart it" in checks["first-pod-ready"]["message"]
    took = check_seconds(pytester)
    assert took["first-pod-ready"] + took["first-pod-serves"] < 300 / 2, took  # a verdict, not a wait of 300 s


@needs_podman
def test_a_sidecar_that_exits_once_then_runs_settles_and_a_short_grace_gets_no_note(pytester, tmp_path):
    def edit(first: dict, sidecar: dict) -> None:
        sidecar["spec"]["terminationGracePeriodSeconds"] = 2
        sidecar["spec"]["containers"][1]["command"] = [
            "sh", "-c", "test -e /logs/.once || { touch /logs/.once; exit 1; }; tail -F /logs/access.log"]
        first["spec"]["terminationGracePeriodSeconds"] = 1

    _, checks = graded(pytester, variant(tmp_path, edit))
    assert failed(checks) == {}
    assert checks["cleanup"]["message"] == ""  # the grace is short already: no note about SIGTERM


# A podman whose `pod stop` is slow, as on a busy machine: it starts late and returns late (seen: over 4 s for
# `pod stop -t 3` on 2 cores running the suite). The verdict must not depend on it.
SLOW_STOP = """#!/bin/sh
if [ "$1" = pod ] && [ "$2" = stop ]; then
  sleep 3; "{real}" "$@"; status=$?; sleep 6; exit $status
fi
exec "{real}" "$@"
"""


def slow_podman_on_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = subprocess.run(["sh", "-c", "command -v podman"], capture_output=True, text=True).stdout.strip()
    folder.mkdir()
    (folder / "podman").write_text(SLOW_STOP.replace("{real}", real))
    (folder / "podman").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


SIGTERM_CAUGHT = "trap 'echo TERM caught' TERM; tail -F /logs/access.log & while true; do sleep 1; done"
SIGTERM_EXITS = "trap 'exit 0' TERM; tail -F /logs/access.log & wait"


@needs_podman
@pytest.mark.parametrize("podman_speed", ["podman as it is", "podman slow to stop"])
@pytest.mark.parametrize(("command", "verdict"), [(SIGTERM_CAUGHT, "fails"), (SIGTERM_EXITS, "passes")],
                         ids=["catches SIGTERM and runs on", "exits on SIGTERM"])
def test_a_long_grace_fails_cleanup_only_when_the_pod_outlives_the_delete_timeout(
        pytester, tmp_path, monkeypatch, podman_speed, command, verdict):
    """On a cluster, a Pod with terminationGracePeriodSeconds: 3600 that keeps running on SIGTERM is still
    there when `--timeout-delete` ends: cleanup fails. One that exits on SIGTERM is gone. A slow podman
    (its stop takes longer than the grace the grader gives it) changes neither verdict into "no points lost"."""
    def edit(first: dict, sidecar: dict) -> None:
        sidecar["spec"]["terminationGracePeriodSeconds"] = 3600
        sidecar["spec"]["containers"][1]["command"] = ["sh", "-c", command]

    if podman_speed == "podman slow to stop":
        slow_podman_on_path(tmp_path / "slow-podman", monkeypatch)
    _, checks = graded(pytester, variant(tmp_path, edit), "--timeout-delete", "5")
    if verdict == "fails":
        assert set(failed(checks)) == {"cleanup"}, failed(checks)
        assert checks["cleanup"]["status"] == "failed"
        assert "terminationGracePeriodSeconds: 3600" in checks["cleanup"]["message"]
    else:
        assert failed(checks) == {}


@needs_podman
def test_a_tag_pinned_with_the_digest_of_the_local_busybox_is_not_nginx(pytester, tmp_path):
    digest = subprocess.run(["podman", "image", "inspect", "--format", "{{.Digest}}",
                             "docker.io/library/busybox:1.36"], capture_output=True, text=True).stdout.strip()

    def edit(first: dict, sidecar: dict) -> None:  # podman really runs busybox for this name, serving the page
        first["spec"]["containers"][0]["image"] = f"nginx:1.25@{digest}"
        first["spec"]["containers"][0]["command"] = [
            "sh", "-c", "mkdir -p /www; echo '<title>Welcome to nginx!</title>' > /www/index.html; "
                        "exec httpd -f -p 80 -h /www"]

    _, checks = graded(pytester, variant(tmp_path, edit))
    assert set(failed(checks)) == {"first-pod-ready", "first-pod-serves"}, failed(checks)
    assert "which is not nginx:1.25's" in checks["first-pod-ready"]["message"]
    assert "which is not nginx:1.25's" in checks["first-pod-serves"]["message"]  # the page came, from busybox


# -- checks: identity and pulls, against a stand-in sandbox -----------------------------------------

class StubSandbox:
    """Only what the identity and pull checks read: a state, events, the lab image's known identity."""

    probes_readiness = True

    def __init__(self, state, known=None, events=()):
        self._state, self.known, self._events = state, known, list(events)
        self.description = "a stand-in"

    def state(self, pod):
        return self._state

    def image_digests(self, image):
        return self.known

    def running_program(self, pod, container, image, program):
        return None  # no process to see

    def events(self, pod):
        return self._events

    def logs(self, pod, container, tail=20):
        return ""


def stub_run(state, known=None, events=(), spec_image="nginx:1.25"):
    from types import SimpleNamespace
    from graders.run import Timeouts
    from graders.run_state import RunState, Wait
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": spec_image}]}}
    known_state = RunState()  # the Pod's waits already ended in `state`: the checks judge it without waiting
    for wait in Wait:
        known_state.pod("web").remember(wait, state)
    return SimpleNamespace(sandbox=StubSandbox(state, known, events), state=known_state,
                           capabilities=frozenset(),
                           submission=SimpleNamespace(pods={"web": pod}, sources={"web": "web.yaml"}),
                           lab=SimpleNamespace(images={}), timeouts=Timeouts(ready=0.5),
                           require=lambda name: None, note=lambda text: None)


def pod_state(image_id="", reason="", running=True):
    from graders.backends.base import ContainerState, PodState
    return PodState(name="web", phase="Running" if running else "Pending", labels={},
                    spec={"containers": [{"name": "app", "image": "nginx:1.25"}]},
                    containers=(ContainerState("app", "nginx:1.25", running=running, ready=running,
                                               reason=reason, image_id=image_id),))


NGINX_DIGEST, BUSYBOX_DIGEST = "cd" * 32, "ab" * 32


@pytest.mark.parametrize("image_id", [
    f"docker.io/library/nginx@sha256:{NGINX_DIGEST}",  # pulled by tag
    f"docker.io/library/import-2026-01-31@sha256:{NGINX_DIGEST}",  # kind load on containerd 2.3 (kind #4184)
    f"registry-1.docker.io/library/nginx@sha256:{NGINX_DIGEST}",
    "sha256:" + "ef" * 32,  # a bare image ID: the node's list names none, so it is no evidence
])
def test_a_cluster_running_the_lab_image_passes_in_every_image_id_form(image_id):
    """Issue 19 item 2: identity is the digest the node knows for the lab's tag, never a repository name
    (main took `import-2026-…` for a repository and failed a correct lab 1.1 on it)."""
    from graders.checks.pods import runs_lab_image
    from graders.images import KnownDigests
    node = KnownDigests({NGINX_DIGEST}, image_ids=False)  # what the node's status lists for nginx:1.25
    runs_lab_image(stub_run(pod_state(image_id=image_id), known=node), "web", "app", "nginx:1.25", "nginx")


@pytest.mark.parametrize("image_id", [f"docker.io/library/busybox@sha256:{BUSYBOX_DIGEST}",
                                      f"docker.io/library/import-2026-01-31@sha256:{BUSYBOX_DIGEST}"])
def test_a_cluster_running_another_image_under_the_lab_tag_fails_by_its_digest(image_id):
    from graders.checks.pods import runs_lab_image
    from graders.errors import CheckFailed
    from graders.images import KnownDigests
    run = stub_run(pod_state(image_id=image_id), known=KnownDigests({NGINX_DIGEST}, image_ids=False))
    with pytest.raises(CheckFailed, match=f"runs .*{BUSYBOX_DIGEST[:12]}.*, which is not nginx:1.25"):
        runs_lab_image(run, "web", "app", "nginx:1.25", "nginx")


def test_without_the_nodes_digests_a_repository_name_alone_is_no_evidence():
    from graders.checks.pods import runs_lab_image
    run = stub_run(pod_state(image_id=f"docker.io/library/busybox@sha256:{BUSYBOX_DIGEST}"), known=None)
    runs_lab_image(run, "web", "app", "nginx:1.25", "nginx")  # no CheckFailed: nothing to compare with


def test_podman_running_another_image_id_under_the_lab_tag_fails_the_identity_check():
    from graders.checks.pods import runs_lab_image
    from graders.errors import CheckFailed
    run = stub_run(pod_state(image_id="ef" * 32), known={"12" * 32})
    with pytest.raises(CheckFailed, match="runs the image efefefefefef, which is not nginx:1.25"):
        runs_lab_image(run, "web", "app", "nginx:1.25", None)


@pytest.mark.parametrize("reason, events", [
    ("PullingImage", []),
    ("ContainerCreating", ['Normal Pulling: Pulling image "nginx:1.25"']),
])
def test_a_pod_still_pulling_at_the_deadline_is_an_infra_error(reason, events):
    from graders.checks.pods import _wait
    run = stub_run(pod_state(reason=reason, running=False), events=events)
    with pytest.raises(InfraError, match="the cluster is still pulling nginx:1.25"):
        _wait(run, "web", ready=True)


def test_a_pod_pulled_but_not_starting_at_the_deadline_is_the_students():
    from graders.checks.pods import _wait
    from graders.errors import CheckFailed
    run = stub_run(pod_state(reason="ContainerCreating", running=False),
                   events=['Normal Pulling: Pulling image "nginx:1.25"', "Normal Pulled: Successfully pulled"])
    with pytest.raises(CheckFailed, match="Running with all containers Ready within 0.5 s"):
        _wait(run, "web", ready=True)


def init_pod_state(init_reason: str, message: str = "", restarts: int = 0):
    """Lab 1.2's Pod while its init container write-page cannot run: nginx only says PodInitializing."""
    from graders.backends.base import ContainerState, PodState
    return PodState(name="web", phase="Pending", labels={},
                    spec={"containers": [{"name": "nginx", "image": "nginx:1.25"}],
                          "initContainers": [{"name": "write-page", "image": "busybox:1.63"}]},
                    containers=(ContainerState("nginx", "nginx:1.25", running=False, ready=False,
                                               reason="PodInitializing"),),
                    init_containers=(ContainerState("write-page", "busybox:1.63", running=False, ready=False,
                                                    reason=init_reason, message=message, restarts=restarts),))


def test_an_init_container_that_cannot_be_pulled_fails_at_once_by_its_name():
    """Issue 19 item 5: a typo in the init container's image is a verdict at once, naming it; on main the
    check waited the whole readiness timeout and said `nginx: PodInitializing`."""
    from graders.checks.pods import _wait
    from graders.errors import CheckFailed
    run = stub_run(init_pod_state("ErrImagePull", 'failed to pull image "busybox:1.63": not found'))
    run.timeouts = type(run.timeouts)(ready=30)
    began = time.monotonic()
    with pytest.raises(CheckFailed) as caught:
        _wait(run, "web", ready=True)
    assert time.monotonic() - began < 10  # not the 30 s deadline
    assert "init container write-page: ErrImagePull" in caught.value.observed
    assert "init container write-page of Pod web (image busybox:1.63)" in caught.value.expected


def test_an_init_container_still_pulling_at_the_deadline_is_the_clusters():
    from graders.checks.pods import _wait
    run = stub_run(init_pod_state("PullingImage", "pulling busybox:1.36 …"))
    with pytest.raises(InfraError, match="still pulling busybox:1.63"):
        _wait(run, "web", ready=True)


def test_a_pod_waiting_for_its_init_container_says_so():
    from graders.checks.diagnostics import describe
    assert "init container write-page: CrashLoopBackOff" in describe(init_pod_state("CrashLoopBackOff"))


def test_kube_state_reports_ordinary_init_containers_by_name(kube_api, kube_sandbox):
    kube_api.mock.objects["v1/pods", NS, "web"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": NS},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}],
                 "initContainers": [{"name": "write-page", "image": "busybox:1.63"}]},
        "status": {"phase": "Pending", "containerStatuses": [
            {"name": "nginx", "image": "nginx:1.25", "imageID": "", "ready": False, "restartCount": 0,
             "state": {"waiting": {"reason": "PodInitializing"}}}], "initContainerStatuses": [
            {"name": "write-page", "image": "busybox:1.63", "imageID": "", "ready": False, "restartCount": 0,
             "state": {"waiting": {"reason": "ErrImagePull",
                                   "message": 'failed to pull image "busybox:1.63": not found'}}}]}}
    state = kube_sandbox.state("web")
    assert [c.name for c in state.containers] == ["nginx"]
    [init] = state.init_containers
    assert (init.name, init.reason) == ("write-page", "ErrImagePull")  # a typo: not a lab image, fatal


def test_kube_state_counts_native_sidecars_as_containers(kube_api, kube_sandbox):
    kube_api.mock.objects["v1/pods", NS, "web"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": NS},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}],
                 "initContainers": [{"name": "setup", "image": "busybox:1.36"},
                                    {"name": "log-shipper", "image": "busybox:1.36", "restartPolicy": "Always"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "app", "image": "nginx:1.25", "imageID": "", "ready": True, "restartCount": 0,
             "state": {"running": {}}}], "initContainerStatuses": [
            {"name": "setup", "image": "busybox:1.36", "imageID": "", "ready": False, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "log-shipper", "image": "busybox:1.36", "imageID": "", "ready": True, "restartCount": 0,
             "state": {"running": {}}}]}}
    state = kube_sandbox.state("web")
    assert [(c.name, c.running, c.ready) for c in state.containers] == [
        ("app", True, True), ("log-shipper", True, True)]  # the finished init container is no container


def test_native_sidecars_count_for_the_rubric_and_the_shared_volume():
    from types import SimpleNamespace
    from graders.checks.expect import containers_named
    from graders.checks.volumes import shared_mounts
    pod = {"metadata": {"name": "app-with-sidecar"}, "spec": {
        "containers": [{"name": "app", "image": "nginx:1.25",
                        "volumeMounts": [{"name": "logs", "mountPath": "/var/log/nginx"}]}],
        "initContainers": [{"name": "log-shipper", "image": "busybox:1.36", "restartPolicy": "Always",
                            "volumeMounts": [{"name": "logs", "mountPath": "/logs"}]}]}}
    run = SimpleNamespace(submission=SimpleNamespace(pods={"app-with-sidecar": pod}), require=lambda name: None,
                          memo={("file", "app-with-sidecar"): "app-with-sidecar.yaml"})
    containers_named(run, "app-with-sidecar", ["log-shipper", "app"], hint="")  # passes: no CheckFailed
    assert shared_mounts(pod["spec"], "app", "log-shipper") == {"logs": ("/var/log/nginx", "/logs")}


def test_a_foreign_digest_fails_before_any_wait():
    from graders.checks.pods import no_foreign_digest
    from graders.errors import CheckFailed
    pinned = "nginx:1.25@sha256:" + "ab" * 32
    never_started = pod_state(reason="ErrImagePull", running=False)  # what such a Pod may do: not waited for
    with pytest.raises(CheckFailed, match="pins the digest abababababab…, which is not nginx:1.25's"):
        no_foreign_digest(stub_run(never_started, known={"cd" * 32}, spec_image=pinned), "web", "app", "nginx:1.25")
    no_foreign_digest(stub_run(never_started, known={"ab" * 32}, spec_image=pinned), "web", "app", "nginx:1.25")
    no_foreign_digest(stub_run(never_started, known=None, spec_image=pinned), "web", "app", "nginx:1.25")
    no_foreign_digest(stub_run(never_started, known={"cd" * 32}), "web", "app", "nginx:1.25")  # no digest written


def test_a_bare_image_id_from_a_cluster_is_no_evidence_against_the_student():
    from graders.checks.pods import _qualified, runs_lab_image
    runs_lab_image(stub_run(pod_state(image_id="sha256:" + "ab" * 32)), "web", "app", "nginx:1.25", "nginx")
    assert _qualified("nginx:1.25") == "docker.io/library/nginx:1.25"
    assert _qualified("bitnami/nginx:1.25") == "docker.io/bitnami/nginx:1.25"
    assert _qualified("ghcr.io/org/nginx:1.25") == "ghcr.io/org/nginx:1.25"


@pytest.mark.parametrize("command, args, verdict", [
    (None, None, ""), (["nginx", "-g", "daemon off;"], None, ""), (["/usr/sbin/nginx"], None, ""),
    (None, ["nginx", "-g", "daemon off;"], ""), (["sleep", "infinity"], None, "runs `sleep infinity` instead of nginx"),
    (None, ["sleep", "1d"], "its args field replaces"), (["sh", "-c", "nginx -g 'daemon off;'"], None, "runs `sh -c"),
])
def test_the_server_must_run_the_images_own_command_or_the_named_program(command, args, verdict):
    from graders.checks.pods import _identity_problem
    from graders.run_state import Wait
    run = stub_run(pod_state())
    container = run.state.pod("web").outcome(Wait.READY).spec["containers"][0]
    container.update({k: v for k, v in (("command", command), ("args", args)) if v is not None})
    problem = _identity_problem(run, "web", "app", "nginx:1.25", "nginx")
    assert (verdict in problem and bool(problem) == bool(verdict)), problem


def test_crash_loop_back_off_is_a_verdict_only_after_3_ends_or_60_s(monkeypatch: pytest.MonkeyPatch) -> None:
    from graders.backends.base import ContainerState, PodState
    from graders.checks import pods
    from graders.errors import CheckFailed

    def state(restarts: int) -> PodState:
        return PodState(name="web", phase="Running", labels={}, spec={"containers": [{"name": "app"}]},
                        containers=(ContainerState("app", "busybox:1.36", running=False, ready=False,
                                                   restarts=restarts, reason="CrashLoopBackOff",
                                                   message="back-off 10s restarting failed container",
                                                   exit_code=1),))

    run = stub_run(state(1))
    seen: dict[str, float] = {}
    pods._fail_on_fatal(run, "web", state(1), seen)  # exited once: it may settle
    with pytest.raises(CheckFailed, match=r"CrashLoopBackOff: it keeps exiting \(exit code 1\) and being restarted"):
        pods._fail_on_fatal(run, "web", state(3), seen)
    now = [1000.0]
    from types import SimpleNamespace
    monkeypatch.setattr(pods, "time", SimpleNamespace(monotonic=lambda: now[0]))  # pods' clock only
    seen.clear()
    pods._fail_on_fatal(run, "web", state(1), seen)
    now[0] += pods.CRASH_WINDOW
    with pytest.raises(CheckFailed, match="CrashLoopBackOff"):
        pods._fail_on_fatal(run, "web", state(1), seen)  # still crash-looping a minute later
