"""KindBackend with a fake `kind` on PATH (no Docker, no download) and kmock as the cluster's API server.

The fake follows the kind CLI (v0.32) for the commands pytest-kind-ng and the backend run: what goes to
stdout and stderr, the exit codes and the kubeconfig it writes. Every call is logged for the asserts.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from pathlib import Path

import pytest
import pytest_kind.cluster
import requests

from graders.backends.kind import KindBackend
from graders.errors import InfraError
from graders.versions import KIND_NODE_IMAGE, KIND_VERSION
from tests.kube_fakes import KubeAPI, kube_api  # noqa: F401  (kube_api is a fixture)

CLUSTER = "k8s-101"

FAKE_KIND = '''#!{python}
"""A fake kind: clusters live in $FAKE_KIND_STATE, calls are logged to $FAKE_KIND_LOG."""
import json, os, sys
from pathlib import Path

state_file, server = Path(os.environ["FAKE_KIND_STATE"]), os.environ["FAKE_KIND_SERVER"]
with open(os.environ["FAKE_KIND_LOG"], "a") as log:
    log.write(json.dumps(sys.argv) + "\\n")
clusters = json.loads(state_file.read_text()) if state_file.exists() else []
args = sys.argv[1:]
flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
if "--config" in args:
    flags["config"] = args[args.index("--config") + 1]
name = flags.get("name", "kind")
fail = os.environ.get("FAKE_KIND_FAIL", "")
DOCKER_DOWN = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
               "Is the docker daemon running?")


def error(message):
    sys.stderr.write("ERROR: " + message + "\\n")
    sys.exit(1)


def write_kubeconfig(path):
    context = "kind-" + name
    Path(path).write_text(json.dumps({{
        "apiVersion": "v1", "kind": "Config", "preferences": {{}}, "current-context": context,
        "clusters": [{{"name": context, "cluster": {{"server": server}}}}],
        "users": [{{"name": context, "user": {{"token": "kind-token"}}}}],
        "contexts": [{{"name": context, "context": {{"cluster": context, "user": context}}}}]}}))
    sys.stderr.write('Set kubectl context to "%s"\\n' % context)


if args[:2] == ["get", "clusters"]:
    if fail == "docker":
        error('failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster '
              '--format \\'{{{{.Label "io.x-k8s.kind.cluster"}}}}\\'" failed with error: exit status 1\\n'
              "Command Output: " + DOCKER_DOWN)
    if not clusters:
        sys.stderr.write("No kind clusters found.\\n")
    for cluster in clusters:
        print(cluster)
elif args[:2] == ["create", "cluster"]:
    if fail in ("create", "docker"):
        error("failed to create cluster: failed to ensure docker network: command \\"docker network ls "
              "--filter=name=^kind$ --format={{{{.Name}}}}\\" failed with error: exit status 1\\n"
              "Command Output: " + DOCKER_DOWN)
    if name in clusters:
        error('failed to create cluster: node(s) already exist for a cluster with the name "%s"' % name)
    if "config" in flags and not Path(flags["config"]).is_file():
        error("failed to create cluster: error reading file: open %s: no such file or directory" % flags["config"])
    sys.stderr.write('Creating cluster "%s" ...\\n' % name)
    state_file.write_text(json.dumps(clusters + [name]))
    write_kubeconfig(flags["kubeconfig"])
elif args[:2] == ["export", "kubeconfig"]:
    if name not in clusters:
        error("could not locate any control plane nodes for cluster named '%s'. "
              "Use the --name option to select a different cluster" % name)
    write_kubeconfig(flags["kubeconfig"])
elif args[:1] == ["version"]:
    print("kind v%s go1.24.4 linux/amd64" % os.environ.get("FAKE_KIND_VERSION", "0.32.0"))
elif args[:2] == ["delete", "cluster"]:
    sys.stderr.write('Deleting cluster "%s" ...\\n' % name)  # kind exits 0 also for a missing cluster
    state_file.write_text(json.dumps([c for c in clusters if c != name]))
else:
    error("unknown command " + " ".join(args))
'''


class FakeKind:
    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.path = self.bin / "kind"
        self.state = tmp_path / "kind-state.json"
        self.log = tmp_path / "kind-calls.jsonl"

    def calls(self) -> list[list[str]]:
        """The argv of every call so far, argv[0] replaced by the command ("get", "create", ...)."""
        if not self.log.exists():
            return []
        return [json.loads(line)[1:] for line in self.log.read_text().splitlines()]

    def executables(self) -> set[str]:
        return {json.loads(line)[0] for line in self.log.read_text().splitlines()}

    def clusters(self) -> list[str]:
        return json.loads(self.state.read_text()) if self.state.exists() else []


@pytest.fixture
def fake_kind(kube_api: KubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKind:
    kind = FakeKind(tmp_path)
    kind.bin.mkdir()
    kind.path.write_text(FAKE_KIND.format(python=sys.executable))
    kind.path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{kind.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KIND_STATE", str(kind.state))
    monkeypatch.setenv("FAKE_KIND_LOG", str(kind.log))
    monkeypatch.setenv("FAKE_KIND_SERVER", kube_api.url)
    monkeypatch.delenv("FAKE_KIND_FAIL", raising=False)
    monkeypatch.delenv("FAKE_KIND_VERSION", raising=False)
    monkeypatch.chdir(tmp_path)  # pytest-kind-ng keeps its state in ./.pytest-kind

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"pytest-kind-ng tried to download: {args}")

    monkeypatch.setattr(pytest_kind.cluster.requests, "get", no_download)
    return kind


@pytest.fixture
def kind_config(tmp_path: Path) -> Path:
    path = tmp_path / "kind-config.yaml"
    path.write_text("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n")
    return path


def test_the_node_image_is_pinned_by_digest():
    assert re.fullmatch(r"kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", KIND_NODE_IMAGE)


def test_without_a_cluster_it_creates_one_with_the_pinned_image_and_the_config(fake_kind, kind_config, kube_api,
                                                                               tmp_path):
    backend = KindBackend(CLUSTER, config=kind_config)
    kubeconfig = tmp_path / ".pytest-kind" / CLUSTER / "kubeconfig"
    assert backend.kubeconfig == kubeconfig
    assert fake_kind.calls() == [
        ["version"],  # the backend's: is the kind on PATH recent enough?
        ["get", "clusters"],  # the backend's: does the cluster exist?
        ["get", "clusters"],  # pytest-kind-ng's, in KindCluster.create()
        ["create", "cluster", f"--name={CLUSTER}", f"--kubeconfig={kubeconfig}", f"--image={KIND_NODE_IMAGE}",
         "--config", str(kind_config)],
        ["export", "kubeconfig", f"--name={CLUSTER}", f"--kubeconfig={kubeconfig}"],
    ]
    assert fake_kind.clusters() == [CLUSTER]
    assert backend.version == "v1.36.1"  # from the API server named in the exported kubeconfig
    assert len(kube_api.mock["get /version/"]) == 1
    sandbox = backend.open_sandbox("1.1", "ab12cd34")
    assert sandbox.description == f"namespace k8s101-1-1-ab12cd34 on kind cluster {CLUSTER} (Kubernetes v1.36.1)"
    [post] = kube_api.mock["post /api/v1/namespaces"]
    assert post.data["metadata"]["name"] == "k8s101-1-1-ab12cd34"
    assert post.headers["Authorization"] == "Bearer kind-token"  # kind's kubeconfig was the one used
    sandbox.close()
    backend.close()


def test_a_missing_config_file_is_not_passed_to_kind(fake_kind, tmp_path):
    KindBackend(CLUSTER, config=tmp_path / "no-such-kind-config.yaml")
    [create] = [call for call in fake_kind.calls() if call[0] == "create"]
    assert "--config" not in create


def test_an_existing_cluster_is_reused_and_its_kubeconfig_exported(fake_kind, kube_api, tmp_path):
    fake_kind.state.write_text(json.dumps(["other", CLUSTER]))
    backend = KindBackend(CLUSTER)
    assert [call[:2] for call in fake_kind.calls()] == [["version"], ["get", "clusters"], ["export", "kubeconfig"]]
    kubeconfig = tmp_path / ".pytest-kind" / CLUSTER / "kubeconfig"
    assert f"--kubeconfig={kubeconfig}" in fake_kind.calls()[-1]
    assert json.loads(kubeconfig.read_text())["current-context"] == f"kind-{CLUSTER}"
    assert backend.version == "v1.36.1"
    assert fake_kind.clusters() == ["other", CLUSTER]


def test_an_existing_cluster_is_reused_when_its_kubeconfig_is_already_there(fake_kind, kube_api, tmp_path):
    fake_kind.state.write_text(json.dumps([CLUSTER]))
    KindBackend(CLUSTER)  # writes .pytest-kind/k8s-101/kubeconfig
    KindBackend(CLUSTER)  # the next run
    assert [call[0] for call in fake_kind.calls()].count("create") == 0
    assert [call[0] for call in fake_kind.calls()].count("export") == 2


def test_close_keeps_the_cluster_by_default(fake_kind):
    backend = KindBackend(CLUSTER)
    backend.close()
    assert not [call for call in fake_kind.calls() if call[0] == "delete"]
    assert fake_kind.clusters() == [CLUSTER]


def test_close_deletes_the_cluster_when_asked(fake_kind, tmp_path):
    backend = KindBackend(CLUSTER, delete=True)
    backend.close()
    kubeconfig = tmp_path / ".pytest-kind" / CLUSTER / "kubeconfig"
    assert fake_kind.calls()[-1] == ["delete", "cluster", f"--name={CLUSTER}", f"--kubeconfig={kubeconfig}"]
    assert fake_kind.clusters() == []


@pytest.mark.parametrize("fail", ["create", "docker"])
def test_without_docker_it_is_an_infra_error_that_suggests_docker_or_podman(fake_kind, monkeypatch, fail):
    monkeypatch.setenv("FAKE_KIND_FAIL", fail)  # docker: even `kind get clusters` fails
    with pytest.raises(InfraError) as caught:
        KindBackend(CLUSTER)
    error = caught.value
    assert type(error) is InfraError
    assert f"could not create or reuse the kind cluster {CLUSTER!r}" in error.problem
    assert error.tried == [f"kind at {fake_kind.path}, cluster {CLUSTER!r}, node image {KIND_NODE_IMAGE.split('@')[0]}"]
    assert "Docker" in error.fix and "--backend podman" in error.fix
    text = str(error)
    assert "Traceback" not in text and "CalledProcessError" not in text
    if fail == "docker":  # the backend's own `kind get clusters` keeps kind's message
        assert "Cannot connect to the Docker daemon" in error.problem
    assert fake_kind.clusters() == []


def test_the_kind_on_path_is_used_and_nothing_is_downloaded(fake_kind, tmp_path):
    KindBackend(CLUSTER)
    assert fake_kind.executables() == {str(fake_kind.path)}
    assert not list((tmp_path / ".pytest-kind" / CLUSTER).glob("kind-*"))  # pytest-kind-ng's download target


def test_without_kind_on_path_the_pinned_version_is_downloaded(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pytest_kind.cluster, "KIND_VERSION", pytest_kind.cluster.KIND_VERSION)  # restored after
    urls = []

    def offline(url: str, **kwargs: object) -> None:
        urls.append(url)
        raise requests.ConnectionError(f"Failed to resolve 'github.com' for {url}")

    monkeypatch.setattr(pytest_kind.cluster.requests, "get", offline)
    with pytest.raises(InfraError) as caught:
        KindBackend(CLUSTER)
    assert urls == [f"https://github.com/kubernetes-sigs/kind/releases/download/{KIND_VERSION}/"
                    f"kind-{platform.system().lower()}-amd64"]
    assert "Failed to resolve 'github.com'" in caught.value.problem  # requests' errors are OSErrors
    assert caught.value.tried[0].startswith(f"kind {KIND_VERSION} (downloaded by pytest-kind-ng), cluster 'k8s-101'")
    assert "internet access" in caught.value.fix


def test_a_kind_on_path_older_than_the_pin_is_not_used(fake_kind, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KIND_VERSION", "0.17.0")
    monkeypatch.setattr(pytest_kind.cluster, "KIND_VERSION", pytest_kind.cluster.KIND_VERSION)  # restored after
    urls = []

    def offline(url: str, **kwargs: object) -> None:
        urls.append(url)
        raise requests.ConnectionError("offline")

    monkeypatch.setattr(pytest_kind.cluster.requests, "get", offline)
    with pytest.raises(InfraError) as caught:
        KindBackend(CLUSTER)
    assert urls and KIND_VERSION in urls[0]  # the pinned kind was fetched instead
    assert fake_kind.calls() == [["version"]]  # only asked for its version
    assert caught.value.tried[1] == f"not the kind on PATH ({fake_kind.path}, version 0.17.0): older than the pinned {KIND_VERSION}"
