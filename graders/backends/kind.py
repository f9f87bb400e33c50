"""kind backend: a local kind cluster, created on first use and kept between runs (students rerun
often); --delete-cluster removes it at the end.

The kind version and node image are pinned in graders/versions.py. A `kind` already on PATH is
preferred when it is not older than the pin (older kinds cannot run current node images); otherwise
the pinned release is downloaded for this OS and CPU and checked against its published sha256
(graders/backends/kind_binary.py; the engine that runs the node: graders/backends/container_engine.py). The
kubeconfig is exported to .pytest-kind/<cluster>/kubeconfig on every run; the user's own kubeconfig
is never touched.

What real laptops and runners do to a kind cluster, and what this module does about it:
- the node container is stopped (Docker Desktop restarted): it is started again, or the cluster is
  recreated when it will not start;
- the cluster is half-created (a first run interrupted before the network plugin): it answers, but its
  node is not Ready; it is recreated;
- a cluster just created or started may take a while to answer: it is waited for (READY_AFTER_START);
- a reused cluster may be slow (a laptop resuming: its node says Ready=Unknown for tens of seconds): it
  is waited for (READY_IF_RUNNING) and recreated only when it cannot come up by itself: its node never
  registers, or its network plugin was never installed (kind's `kindnet` DaemonSet is missing);
- two first runs at once: a file lock serializes download, create and export;
- creation takes minutes: kind's step lines are shown as progress, with a line at least every
  PROGRESS_EVERY seconds while the node image is pulled or the cluster settles, and Ctrl-C removes the
  half-made cluster;
- the node image comes from Docker Hub, whose anonymous pulls are limited per address: it is pulled
  from NODE_IMAGE_MIRROR first (the same image by digest), and a 429 `toomanyrequests` from Docker Hub
  is said as what it is, with what to do;
- images the host's Docker has are copied into the node when that works (Docker 29's containerd image
  store breaks `kind load docker-image` for multi-platform images: kind #3795), never as a condition of
  grading: the node pulls what it lacks.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Any

from graders import images
from graders.backends import KIND_CLUSTER, elsewhere
from graders.backends.container_engine import command_output, engine_problem, kind_engine
from graders.backends.kind_binary import Progress, ensure_kind, file_lock, node_arch
from graders.backends.kind_progress import Ticker, terminal_progress
from graders.backends.kube import (
    NO_NODE, ClusterBackend, Configuration, KubernetesSandbox, check_reachable, client_for, cluster_problem,
    kindnet_installed, load_configuration, sandbox_namespace)
from graders.errors import InfraError
from graders.versions import KIND_NODE_IMAGE
from graders.waiting import NotYet, until

STATE_DIR = Path(".pytest-kind")  # relative to the run's folder, as pytest-kind-ng kept it
KIND_COMMAND_TIMEOUT = 120  # seconds for `kind get clusters`, `kind export kubeconfig`, `docker start`
CREATE_TIMEOUT = 1200  # seconds for `kind create cluster`, node image download included
READY_AFTER_START = 90.0  # seconds a cluster just created or started may take to answer and run Pods
READY_IF_RUNNING = 120.0  # the same for a cluster that was already running (a laptop that just resumed)
# Google's public cache of Docker Hub serves kindest/node under the same digests, without Docker Hub's
# anonymous pull limit (10 pulls an hour per address since 2025): a class behind one school address, or
# shared CI runners, would otherwise stop after a few first runs. The image is pinned by digest, so
# the mirror cannot substitute another one.
NODE_IMAGE_MIRROR = "mirror.gcr.io"
RATE_LIMITED = ("toomanyrequests", "429 Too Many Requests", "pull rate limit")
NODE_IMAGE_PULL_TIMEOUT = 900  # seconds for pulling the node image from the mirror (about 500 MB)
FIX = "start Docker (`docker info` must work) and check internet access for the first run"
RATE_LIMIT_FIX = ("Docker Hub limits anonymous pulls per network address (a school network or shared CI runners "
                  "use theirs up quickly): wait an hour and run again, or `docker login` (a free account gets "
                  "more pulls), or grade without Kubernetes: add --backend podman to the same pytest command")
# containerd's hosts.toml for docker.io, written into the node after creation (see kind-config.yaml):
# Google's public Docker Hub cache first, Docker Hub itself when the cache fails.
DOCKER_HUB_MIRROR = ('server = "https://registry-1.docker.io"\n\n'
                     '[host."https://mirror.gcr.io"]\n  capabilities = ["pull", "resolve"]\n')
MIRROR_DIR = "/etc/containerd/certs.d/docker.io"

@dataclass
class NotHealthy(InfraError):
    """The cluster answers but cannot run Pods (node not Ready, kube-system Pods not Running)."""

    recreate: bool = False  # True when it cannot come up by itself: no node registered, no network plugin


class NoCNI(Exception):
    """The cluster's network plugin was never installed."""


class KindBackend(ClusterBackend):
    name = "kind"
    progress: Progress  # never None here: the terminal when the caller gives none

    def __init__(self, cluster: str, config: Path | None = None, delete: bool = False,
                 progress: Progress | None = None) -> None:
        self.cluster = cluster
        self.delete_at_end = delete
        self.progress = progress if progress is not None else terminal_progress
        self.config = config if config and config.exists() else None
        self.state = STATE_DIR / cluster
        self.kubeconfig = (self.state / "kubeconfig").resolve()
        self.engine = kind_engine()
        self.node = f"{cluster}-control-plane"
        self._loaded: set[str] = set()  # images looked at for loading in this run
        self._loading = threading.Lock()  # Pods are applied from parallel threads
        self.tried: list[str] = []
        self.kind = ""
        # What kind needs before anything slow (a download, minutes of node image): the engine's daemon
        problem, fix = engine_problem(self.engine)
        if problem:
            raise InfraError(f"the kind backend cannot run here: {problem}", tried=[f"`{self.engine} info`"],
                             fix=f"{fix}, then run again; {elsewhere.instead('kind')}")
        if self.engine != "docker" and not os.environ.get("KIND_EXPERIMENTAL_PROVIDER"):
            self.progress(f"Docker is not installed: kind runs its node in {self.engine} instead "
                          "(kind calls this experimental)")
        try:
            self.state.mkdir(parents=True, exist_ok=True)
            with file_lock(self.state / "lock", self.progress):
                self.kind = self._ensure_kind()
                configuration, self.version = self._up()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            raise InfraError(f"could not create or reuse the kind cluster {cluster!r}: {command_output(error)}",
                             tried=self.tried, fix=f"{FIX}; {elsewhere.instead('kind')}") from error
        except InfraError as error:  # no kind to download (no network): this machine may grade otherwise
            error.fix = f"{error.fix}; {elsewhere.instead('kind')}" if error.fix else elsewhere.instead("kind")
            raise
        super().__init__(configuration, where=f"kind cluster {cluster} (Kubernetes {self.version})",
                         progress=self.progress)

    def open_sandbox(self, lab_id: str, run_id: str) -> "KindSandbox":
        return KindSandbox(self, self._make_client, sandbox_namespace(lab_id, run_id), run_id, where=self.where,
                           progress=self.progress)

    # -- images the host already has ---------------------------------------------------------------------
    def load_local_images(self, images: list[str]) -> None:
        """Images already in the host's Docker (pulled before, or built) are copied into the node instead
        of being pulled again over the network, once per run each. Never a condition of grading: whatever
        is not copied, the node pulls as usual (through its registry mirror).

        `kind load docker-image` runs `docker save` and `ctr images import --all-platforms --digests`
        (kind: pkg/cluster/nodeutils/util.go, LoadImageArchive), which fails with `content digest … not
        found` when Docker keeps images in its containerd store (the default of Docker 29 and of Docker
        Desktop) and the image is multi-platform: `docker save` then writes an index whose other
        platforms are missing (kind #3795). kind's documented workaround (kind PR #4247) is tried next: a
        single-platform `docker save --platform` and `kind load image-archive`."""
        if Path(self.engine).name != "docker":  # `kind load docker-image` reads from Docker
            return
        with self._loading:
            for image in sorted(set(images) - self._loaded):
                self._loaded.add(image)
                if not self._has_image(image) or self._node_has(image):
                    continue  # not on the host (the node pulls it), or the node has it already
                self.progress(f"copying {image} from Docker into the kind cluster (no download)")
                problem = self._load(image)
                if problem:
                    self.progress(f"could not copy {image} ({problem}): the kind node pulls it itself, as usual")

    def _node_has(self, image: str) -> bool:
        try:
            self._engine("exec", self.node, "crictl", "inspecti", "-q", image)
            return True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            return False

    def _load(self, image: str) -> str:
        """'' once the node has the image, else why not."""
        try:
            self._kind("load", "docker-image", f"--name={self.cluster}", image)
            return ""
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            first = command_output(error)
        archive = self.state / f"image-{hashlib.sha256(image.encode()).hexdigest()[:12]}.tar"
        try:
            self._engine("save", "--platform", f"linux/{node_arch()}", "-o", str(archive), image)
            self._kind("load", "image-archive", f"--name={self.cluster}", str(archive))
            return ""
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            return f"{first}; single-platform: {command_output(error)}"
        finally:
            archive.unlink(missing_ok=True)

    def image_digests(self, image: str) -> images.KnownDigests | None:
        """The node's own knowledge of the image (`crictl inspecti`: its image ID and repository digests,
        the `import-…` one included), read through the engine; None when the node does not have it."""
        try:
            found = json.loads(self._engine("exec", self.node, "crictl", "inspecti", "-o", "json", image) or "{}")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, ValueError):
            return None
        status = found.get("status") or {} if isinstance(found, dict) else {}
        known = images.digests([str(status.get("id") or ""), *map(str, status.get("repoDigests") or [])])
        return images.KnownDigests(known, image_ids=True) if known else None

    # -- the cluster's life ---------------------------------------------------------------------------
    def _up(self) -> tuple[Configuration, str]:
        started = True
        if self.cluster not in self._kind("get", "clusters").splitlines():
            self._create()
        elif self._node_running() is False:
            self._start_or_recreate()
        else:
            started = False
        self._kind("export", "kubeconfig", f"--name={self.cluster}", f"--kubeconfig={self.kubeconfig}")
        configuration = load_configuration(self.kubeconfig, None)
        try:
            return configuration, self._wait_healthy(configuration, READY_AFTER_START if started else READY_IF_RUNNING,
                                                      reused=not started)
        except NotHealthy as problem:
            if started or not problem.recreate:
                raise  # a cluster just made is not remade again and again; a slow one is not thrown away
            self.progress(f"the kind cluster {self.cluster} cannot run Pods ({problem.problem}), probably "
                          "left half-created by an interrupted first run: recreating it")
            self._delete()
            self._create()
            self._kind("export", "kubeconfig", f"--name={self.cluster}", f"--kubeconfig={self.kubeconfig}")
            configuration = load_configuration(self.kubeconfig, None)
            return configuration, self._wait_healthy(configuration, READY_AFTER_START)

    def _start_or_recreate(self) -> None:
        self.progress(f"the kind node {self.node} is stopped (did Docker restart?): starting it")
        try:
            self._engine("start", self.node)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            self.progress(f"it did not start ({command_output(error)}): recreating the cluster {self.cluster}")
            self._delete()
            self._create()

    def _create(self) -> None:
        """`kind create cluster`, its step lines shown as they come; never leaves a half-made cluster."""
        self.progress(f"creating the kind cluster {self.cluster}: the first time takes a few minutes "
                      "(it downloads the node image)")
        image = self._node_image()
        command = [self.kind, "create", "cluster", f"--name={self.cluster}", f"--kubeconfig={self.kubeconfig}",
                   f"--image={image}", *(["--config", str(self.config)] if self.config else [])]
        start = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   errors="replace", stdin=subprocess.DEVNULL)
        watchdog = threading.Timer(CREATE_TIMEOUT, process.kill)
        watchdog.start()
        lines: list[str] = []
        try:
            with Ticker(self.progress, f"creating the kind cluster {self.cluster} (kind pulls the node image "
                                       "first: minutes on a slow network)") as ticker:
                for line in process.stdout or []:
                    if line.strip():
                        lines.append(line.strip())
                        ticker.beat(f"[{time.monotonic() - start:4.0f} s] {line.strip()}")
                if process.wait() != 0:
                    raise subprocess.CalledProcessError(process.returncode, command, output="\n".join(lines))
        except BaseException as error:  # a failure, Ctrl-C, SIGTERM: remove what kind made so far
            process.kill()
            process.wait()
            self.progress(f"removing the half-made cluster {self.cluster}")
            self._delete(quiet=True)
            if isinstance(error, subprocess.CalledProcessError) and rate_limited(error.output or ""):
                raise InfraError(f"Docker Hub refused to send the kind node image {KIND_NODE_IMAGE.split('@')[0]}: "
                                 f"too many pulls from your network address (429 toomanyrequests): "
                                 f"{command_output(error)}", tried=self.tried, fix=RATE_LIMIT_FIX) from error
            raise
        finally:
            watchdog.cancel()
        self._add_registry_mirror()

    def _node_image(self) -> str:
        """The node image for `kind create`: the pinned one when the engine has it, else the same image
        (same digest) from NODE_IMAGE_MIRROR when that pull works, else the pinned one (kind pulls it
        from Docker Hub)."""
        mirrored = f"{NODE_IMAGE_MIRROR}/{KIND_NODE_IMAGE}"
        for image in (KIND_NODE_IMAGE, mirrored):
            if self._has_image(image):
                return image
        self.progress(f"pulling the node image from {NODE_IMAGE_MIRROR} (Google's cache of Docker Hub, which "
                      "has no pull limit): about 500 MB, minutes on a slow network")
        start = time.monotonic()
        try:
            with Ticker(self.progress, f"pulling the node image {KIND_NODE_IMAGE.split('@')[0]} from "
                                       f"{NODE_IMAGE_MIRROR}"):
                _run([self.engine, "pull", mirrored], timeout=NODE_IMAGE_PULL_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            self.progress(f"the mirror did not give it ({command_output(error)}): kind pulls it from Docker Hub")
            self.tried.append(f"node image from {NODE_IMAGE_MIRROR}: {command_output(error)}")
            return KIND_NODE_IMAGE
        self.progress(f"[{time.monotonic() - start:4.0f} s] pulled the node image from {NODE_IMAGE_MIRROR}")
        return mirrored

    def _has_image(self, image: str) -> bool:
        try:
            self._engine("image", "inspect", "--format", "{{.Id}}", image)
            return True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            return False

    def _add_registry_mirror(self) -> None:
        try:
            self._engine("exec", "-i", self.node, "sh", "-c",
                         f"mkdir -p {MIRROR_DIR} && cat > {MIRROR_DIR}/hosts.toml", stdin=DOCKER_HUB_MIRROR)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            self.progress(f"could not set the docker.io mirror ({command_output(error)}): pulling from Docker Hub")

    def _wait_healthy(self, configuration: Configuration, timeout: float, reused: bool = False) -> str:
        """The server's version once it answers and its node can run Pods, within timeout seconds.

        NotHealthy (recreate=True) at once for a reused cluster whose network plugin was never installed
        (kind applies its `kindnet` DaemonSet in the step "Installing CNI": a first run interrupted
        before it), and at the deadline when its node never registered; a node that registered and is
        only slow (Ready=Unknown after a laptop resumed) is waited for and never thrown away."""
        api, deadline = client_for(configuration), time.monotonic() + timeout
        where, fix = f"kind cluster {self.cluster}", f"`kind delete cluster --name {self.cluster}`, then run again"
        registered: list[bool] = []

        def reachable() -> str:
            try:
                return check_reachable(api, where, tried=self.tried, fix=fix)
            except InfraError as error:
                raise NotYet(error.problem) from error

        def healthy() -> None:
            try:
                problem = cluster_problem(api)
                if problem and reused and not kindnet_installed(api):
                    raise NoCNI(problem)
            except (NoCNI, NotHealthy):
                raise
            except Exception as error:  # the API's errors while it settles: keep asking until the deadline
                problem = f"{type(error).__name__}: {error}"
            if problem != NO_NODE:
                registered.append(True)
            if problem:
                raise NotYet(problem)

        with Ticker(self.progress, f"waiting for the {where} to answer and run Pods "
                                   f"(at most {timeout:g} s)"):
            try:
                version = until(reachable, timeout=timeout)
            except NotYet as last:
                raise InfraError(f"{last.observed} (waited {timeout:g} s)", tried=self.tried, fix=fix) from None
            try:
                until(healthy, timeout=max(deadline - time.monotonic(), 1.0))
            except NoCNI as missing:
                raise NotHealthy(f"the {where} has no network plugin ({missing}): kind's kindnet was never "
                                 "installed", tried=self.tried, fix=fix, recreate=True) from None
            except NotYet as last:
                raise NotHealthy(f"the {where} is not ready to run Pods: {last.observed} (waited {timeout:g} s)",
                                 tried=self.tried, fix=fix + "; if Docker was just restarted or the machine "
                                 "resumed, wait a minute and run again", recreate=not registered) from None
        return version

    def close(self) -> None:
        if self.delete_at_end:
            try:
                self._delete()
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
                raise InfraError(f"could not delete the kind cluster: {command_output(error)}", tried=self.tried,
                                 fix=f"`kind delete cluster --name {self.cluster}`") from error

    # -- commands -------------------------------------------------------------------------------------
    def _delete(self, quiet: bool = False) -> None:
        try:
            self._kind("delete", "cluster", f"--name={self.cluster}", f"--kubeconfig={self.kubeconfig}")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            if not quiet:
                raise

    def _node_running(self) -> bool | None:
        """Whether the node container runs; None when the engine cannot tell (kind's export will say why)."""
        try:
            return self._engine("inspect", "-f", "{{.State.Running}}", self.node).strip() == "true"
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            return None

    def _kind(self, *args: str) -> str:
        return _run([self.kind, *args])

    def _engine(self, *args: str, stdin: str | None = None) -> str:
        return _run([self.engine, *args], stdin)

    def _ensure_kind(self) -> str:
        return ensure_kind(self.state, self.cluster, self.tried, self.progress)


class KindSandbox(KubernetesSandbox):
    """A namespace of the kind cluster; a Pod's images that the host's Docker has are loaded first."""

    def __init__(self, backend: KindBackend, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backend = backend

    def image_digests(self, image: str) -> AbstractSet[str] | None:
        """What the node itself knows (immediate, with image IDs), else what its status lists."""
        return self._backend.image_digests(image) or super().image_digests(image)

    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        spec = pod.get("spec") or {}
        wanted = [str(c.get("image")) for place in ("initContainers", "containers") for c in spec.get(place) or []
                  if isinstance(c, dict) and c.get("image")]
        self._backend.load_local_images([images.qualified(image) for image in wanted])
        super().apply(pod, timeout)


def delete_cluster(cluster: str, progress: Progress | None = None) -> None:
    """Remove the grader's kind cluster and its exported kubeconfig (the user's own is not touched)."""
    state = STATE_DIR / cluster
    state.mkdir(parents=True, exist_ok=True)
    kubeconfig = (state / "kubeconfig").resolve()
    progress = progress if progress is not None else terminal_progress
    with file_lock(state / "lock", progress):
        kind = ensure_kind(state, cluster, [], progress)
        try:
            _run([kind, "delete", "cluster", f"--name={cluster}", f"--kubeconfig={kubeconfig}"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            raise InfraError(f"could not delete the kind cluster {cluster!r}: {command_output(error)}",
                             fix=f"`kind delete cluster --name {cluster}`") from error
    kubeconfig.unlink(missing_ok=True)


def _run(command: list[str], stdin: str | None = None, timeout: float = KIND_COMMAND_TIMEOUT) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL, timeout=timeout).stdout


def rate_limited(output: str) -> bool:
    """Whether a registry's answer in kind's or docker's output is Docker Hub's pull limit."""
    return any(words.lower() in output.lower() for words in RATE_LIMITED)


def main() -> None:
    """Create or reuse the kind cluster, as a grading run would: `python -m graders.backends.kind [NAME]`."""
    name = sys.argv[1] if len(sys.argv) > 1 else KIND_CLUSTER
    try:
        backend = KindBackend(name, config=Path("kind-config.yaml"))
    except InfraError as error:
        sys.exit(str(error))
    print(f"kind cluster {name} is up: Kubernetes {backend.version}, kubeconfig {backend.kubeconfig}")


if __name__ == "__main__":
    main()
