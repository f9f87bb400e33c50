"""The fake cluster's kubelet: plays each Pod as a podman pod and reports its status as a kubelet does.

Where it follows the kubelet rather than `podman kube play` (see /work/shared/ENVIRONMENT.md):
- Images are "pulled" before the play (Pulling/Pulled events; faults pull-429 and pull-slow act
  here). An image missing locally is the registry's "not found": that container waits in
  ErrImagePull/ImagePullBackOff for ever while the Pod's other containers are played without it.
- podman plays with restartPolicy Never; this kubelet restarts exited containers itself with the
  kubelet's back-off (first restart at once, then 10 s, 20 s, ... 300 s), so CrashLoopBackOff,
  restartCount and lastState are real.
- No host ports, emptyDir as a bind mount of a fresh directory, annotations and probes stripped from the played
  copy: this kubelet runs the readiness and liveness probes itself (a liveness probe that fails failureThreshold
  times kills the container, "Container NAME failed liveness probe, will be restarted"); startupProbe is not
  modelled.
- Init containers: their images are pulled one after the other before anything is played; one that
  cannot be pulled keeps the Pod Pending, every container waiting in PodInitializing (the kubelet's
  default waiting reason in a Pod with init containers: pkg/kubelet/kubelet_pods.go,
  convertToAPIContainerStatuses). podman runs the ordinary ones to completion before the containers
  (init type "always", so that they stay to be looked at); they are reported in initContainerStatuses.
  One that exits non-zero is not restarted here (a kubelet would, with its back-off): it reads
  CrashLoopBackOff, or the Pod is Failed under restartPolicy Never.
- Native sidecars (init containers with restartPolicy: Always, Kubernetes 1.29+): podman 4.3 cannot run
  them as init containers, so they are played as containers started before the others, reported in
  initContainerStatuses, started and ready once running (unless a readinessProbe says otherwise), and
  restarted as containers under restartPolicy Always are.
- Every pulled image is listed in the node's status.images, by repository digest then tag, and each
  container's imageID comes in the form the fault image-id chooses (containerd's forms).

What it shares with the podman backend (graders/backends/podman/), all public names, and why:
- play.py's expand_container, bound_resources and INIT_CONTAINER_TYPE: the same podman 4.3 is bridged the same way
  ($(VAR) expanded as a kubelet does, the run's caps as a LimitRange gives them, init containers kept to be read).
- classification.py's reason_for and error_text: podman's own words for a start that failed, read as the kubelet's
  reason or as the machine's fault. These are not an independent oracle: the parity table's rows where podman fails
  agree with the backend by construction. What proves the classification is tests/test_podman_play.py's tables of
  podman's measured messages (the student's, the machine's).
- owners.py's OWNER_FILE and owner_labels, host.py's remove_tree: the backend's bookkeeping, so that reaping and
  the test session's guard (tests/conftest.py) know this kubelet's objects as a run's, and a deep tree is removed.
Everything else here (statuses, events, back-off, probes, images) is this kubelet's own model of a kubelet.
"""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from graders.backends.podman import play as podman_play
from graders.backends.podman.classification import SANDBOX_STOPPING_WAIT, error_text, reason_for, sandbox_stopping
from graders.backends.podman.host import remove_tree
from graders.backends.podman.owners import OWNER_FILE, owner_labels
from tests.cluster.defaults import qos_class
from tests.cluster.faults import NODE_BACKOFF, Faults
from tests.cluster.podman import podman, remove_pods
from tests.cluster.probes import probe

SERVER_LABEL = "k8s101.dev/fake-cluster"
TOKEN_VOLUME = "kube-api-access-"
BACKOFF_START, BACKOFF_MAX = NODE_BACKOFF, 300.0  # the kubelet's back-off for restarts and image pulls
# ErrImagePull shows until the kubelet's next sync of the Pod, then ImagePullBackOff for the rest of
# the back-off: a few seconds on a real node too, so a grader may see either reason first
ERR_IMAGE_PULL_SHOWN = 5.0
MONITOR_EVERY = 1.0  # seconds between looks at the containers: the kubelet's PLEG relists every second too
RATE_LIMITED = ("429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. "
                "You may increase the limit by authenticating and upgrading")

Emit = Callable[["Pod", str, str, str], None]  # pod, type, reason, message


def fired(fault: str, what: str) -> None:
    """Say so in the server's output when a fault acts: a scenario test asserts its fault fired."""
    print(f"fake-cluster: fault {fault} fired: {what}", flush=True)


def now_iso(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if at is None else at))


def full_image(image: str) -> str:
    """The image reference as containerd names it: nginx:1.25 -> docker.io/library/nginx:1.25."""
    first, _, rest = image.partition("/")
    if not rest:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


@dataclass
class Container:
    name: str
    image: str
    podman_name: str
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str = ""
    restart_count: int = 0
    last_terminated: dict[str, Any] | None = None
    terminated: dict[str, Any] | None = None
    started_at: str = ""
    image_id: str = ""
    container_id: str = ""
    pulled: bool = False
    played: bool = False
    exit_handled: bool = False  # the end of its current run was seen (podman's times are whole seconds)
    restart_at: float | None = None
    backoff: float = BACKOFF_START  # before its next restart (the restart-backoff fault sets where it starts)
    ephemeral: bool = False  # an ephemeral container: never restarted
    init: bool = False  # an ordinary init container: runs to completion, never restarted here
    sidecar: bool = False  # a native sidecar (an init container with restartPolicy: Always)
    spec: dict[str, Any] = field(default_factory=dict)
    probe_ready: bool = False  # the readinessProbe's last verdict (ready needs one success)
    runs_began: list[float] = field(default_factory=list)  # when each restart began (the first run: at play)
    prober: asyncio.Task | None = None
    live_prober: asyncio.Task | None = None  # the livenessProbe's worker for the current run
    killed_by_probe: bool = False  # the current run was killed for a failed livenessProbe: restarted whatever its code

    @property
    def ready(self) -> bool:
        return self.state == "running" and (self.probe_ready or "readinessProbe" not in self.spec)

    def status(self, spec_image: str) -> dict[str, Any]:
        if self.state == "running":
            state = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated" and self.terminated:
            state = {"terminated": self.terminated}
        else:
            state = {"waiting": {"reason": self.reason, **({"message": self.message} if self.message else {})}}
        found = {"name": self.name, "image": full_image(spec_image), "imageID": self.image_id,
                 "ready": self.ready, "restartCount": self.restart_count,
                 "started": self.state == "running", "state": state,
                 "lastState": {"terminated": self.last_terminated} if self.last_terminated else {}}
        if self.container_id:
            found["containerID"] = f"podman://{self.container_id}"
        return found

    def restart_policy(self, pod_policy: str) -> str:
        """A native sidecar is always restarted, whatever the Pod's restartPolicy."""
        return "Always" if self.sidecar else pod_policy


@dataclass
class Pod:
    obj: dict[str, Any]  # as stored by the API server (metadata, spec)
    podman_name: str
    containers: dict[str, Container]
    infra_id: str = ""
    ephemeral: dict[str, Container] = field(default_factory=dict)
    ip: str = ""  # the infra container's address on podman's network, once played
    inits: dict[str, Container] = field(default_factory=dict)  # the init containers, native sidecars too
    deleting: bool = False
    tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return self.obj["metadata"]["namespace"]

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def policy(self) -> str:
        return self.obj["spec"].get("restartPolicy") or "Always"

    def status(self) -> dict[str, Any]:
        specs = {c["name"]: c for c in self.obj["spec"]["containers"] + self.obj["spec"].get("initContainers", [])}
        statuses = [c.status(specs[c.name].get("image", "")) for c in self.containers.values()]
        ready = all(c.ready for c in self.containers.values()) and all(c.ready for c in self.sidecars())
        created = self.obj["metadata"]["creationTimestamp"]
        condition = lambda kind, ok: {"type": kind, "status": "True" if ok else "False",  # noqa: E731
                                      "lastProbeTime": None, "lastTransitionTime": created}
        found = {"phase": self.phase(), "hostIP": "127.0.0.1", "hostIPs": [{"ip": "127.0.0.1"}],
                 **({"podIP": self.ip, "podIPs": [{"ip": self.ip}]} if self.ip else {}),
                 "startTime": created, "qosClass": qos_class(self.obj["spec"]),
                 "conditions": [condition("PodScheduled", True), condition("Initialized", self.initialized()),
                                condition("ContainersReady", ready), condition("Ready", ready)],
                 "containerStatuses": statuses}
        if self.inits:
            found["initContainerStatuses"] = [c.status(specs[c.name].get("image", "")) for c in self.inits.values()]
        if self.ephemeral:
            found["ephemeralContainerStatuses"] = [{**c.status(c.image), "ready": False}
                                                   for c in self.ephemeral.values()]
        return found

    def sidecars(self) -> list[Container]:
        return [c for c in self.inits.values() if c.sidecar]

    def initialized(self) -> bool:
        """Every ordinary init container completed, every native sidecar started."""
        return all((c.state == "running") if c.sidecar else bool(c.terminated and c.terminated.get("exitCode") == 0)
                   for c in self.inits.values())

    def any_container(self, name: str) -> Container | None:
        return self.containers.get(name) or self.inits.get(name) or self.ephemeral.get(name)

    def watched(self) -> list[Container]:
        """Every container the monitor looks at."""
        return [*self.containers.values(), *self.inits.values(), *self.ephemeral.values()]

    def phase(self) -> str:
        """The kubelet's getPhase: a waiting container that never ran keeps the Pod Pending, and so does an
        init container that has not completed (a failed one makes the Pod Failed under Never)."""
        if not self.initialized():
            failed = any(c.init and c.terminated and c.terminated.get("exitCode") != 0 for c in self.inits.values())
            return "Failed" if failed and self.policy == "Never" else "Pending"
        running = pending = stopped = succeeded = 0
        for c in self.containers.values():
            if c.state == "running":
                running += 1
            elif c.state == "terminated":
                stopped += 1
                succeeded += c.terminated is not None and c.terminated.get("exitCode") == 0
            elif c.last_terminated:
                stopped += 1
            else:
                pending += 1
        if pending:
            return "Pending"
        if running:
            return "Running"
        if self.policy == "Always" or (self.policy == "OnFailure" and stopped != succeeded):
            return "Running"
        return "Succeeded" if stopped == succeeded else "Failed"


def missing_volume(spec: dict[str, Any]) -> str:
    """'"cfg" : configmap "x" not found' for the first configMap or Secret volume (none exist here)."""
    for volume in spec.get("volumes") or []:
        for kind, key, what in (("configMap", "name", "configmap"), ("secret", "secretName", "secret")):
            source = volume.get(kind)
            if isinstance(source, dict) and not source.get("optional"):
                return f'"{volume.get("name")}" : {what} "{source.get(key)}" not found'
    return ""


def missing_reference(container: dict[str, Any]) -> str:
    """'secret "x" not found' for the first env reference to a ConfigMap or Secret (none exist here)."""
    refs = [(env.get("valueFrom") or {}) for env in container.get("env") or []]
    refs += [{f"{k[:-3]}KeyRef": v for k, v in source.items() if k in ("configMapRef", "secretRef")}
             for source in container.get("envFrom") or []]
    for ref in refs:
        for kind, what in (("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")):
            source = ref.get(kind)
            if isinstance(source, dict) and not source.get("optional"):
                return f'{what} "{source.get("name")}" not found'
    return ""


class Kubelet:
    def __init__(self, faults: Faults, emit: Emit) -> None:
        self.faults = faults
        self.emit = emit
        self.sid = uuid.uuid4().hex[:6]
        self.workdir = Path(tempfile.mkdtemp(prefix=f"k8s101-fake-cluster-{self.sid}-"))
        # whose it is, as a grading run's work folder says: tests that share the machine tell it apart
        (self.workdir / OWNER_FILE).write_text(json.dumps(owner_labels()))
        self.pods: dict[str, Pod] = {}  # podman name -> Pod
        self.images: dict[str, list[str]] = {}  # image ID -> its names on the node (status.images)
        self._count = 0
        self._monitor: asyncio.Task | None = None
        self._looking = asyncio.Lock()

    # -- lifecycle of one Pod ----------------------------------------------------------------------
    def start(self, obj: dict[str, Any]) -> Pod:
        self._count += 1
        name = f"fc{self.sid}-{self._count}-{obj['metadata']['name']}"
        waiting = "PodInitializing" if obj["spec"].get("initContainers") else "ContainerCreating"
        containers = {c["name"]: Container(c["name"], c.get("image", ""), f"{name}-{c['name']}", spec=c,
                                           backoff=self.faults.restart_backoff, reason=waiting)
                      for c in obj["spec"]["containers"]}
        inits = {c["name"]: Container(c["name"], c.get("image", ""), f"{name}-{c['name']}", spec=c, reason=waiting,
                                      backoff=self.faults.restart_backoff, sidecar=c.get("restartPolicy") == "Always",
                                      init=c.get("restartPolicy") != "Always")
                 for c in obj["spec"].get("initContainers") or []}
        pod = Pod(obj, name, containers, inits=inits)
        self.pods[name] = pod
        pod.tasks.append(asyncio.create_task(self._run(pod)))
        if self._monitor is None:
            self._monitor = asyncio.create_task(self._watch())
        return pod

    async def stop(self, pod: Pod, grace: int) -> None:
        """Delete as the kubelet does: SIGTERM, the grace period, then SIGKILL; then the Pod is gone."""
        pod.deleting = True
        for task in pod.tasks:
            task.cancel()
        for c in pod.containers.values():
            if c.state == "running":
                self.emit(pod, "Normal", "Killing", f"Stopping container {c.name}")
        await podman("pod", "stop", "--ignore", "-t", str(grace), pod.podman_name, timeout=grace + 30)
        await remove_pods([pod.podman_name])
        remove_tree(self.workdir / pod.podman_name)
        self.pods.pop(pod.podman_name, None)

    async def close(self) -> list[str]:
        """Remove every pod this server played; the names of those still there afterwards."""
        if self._monitor:
            self._monitor.cancel()
        for pod in self.pods.values():
            pod.deleting = True
            for task in pod.tasks:
                task.cancel()
        left = await remove_pods([pod.podman_name for pod in self.pods.values()])
        remove_tree(self.workdir)
        return left

    async def _run(self, pod: Pod) -> None:
        """Schedule, mount, pull, create: the kubelet's order, each step with its own failure."""
        claims = [v["persistentVolumeClaim"].get("claimName") for v in pod.obj["spec"].get("volumes") or []
                  if "persistentVolumeClaim" in v]
        if claims:  # there is no PersistentVolumeClaim API here: it cannot be bound
            self.emit(pod, "Warning", "FailedScheduling", f'0/1 nodes are available: persistentvolumeclaim '
                                                          f'"{claims[0]}" not found. preemption: 0/1 nodes are '
                                                          'available')
            return
        self.emit(pod, "Normal", "Scheduled", f"Successfully assigned {pod.namespace}/{pod.name} to fake-cluster")
        unmountable = missing_volume(pod.obj["spec"])
        if unmountable:  # the Pod stays ContainerCreating, as on a node
            self.emit(pod, "Warning", "FailedMount", f"MountVolume.SetUp failed for volume {unmountable}")
            return
        for init in pod.inits.values():  # one after the other, each before it starts
            if not await self._pull(pod, init):
                return  # the Pod stays Pending: every container waits in PodInitializing
        pulled = await asyncio.gather(*(self._pull(pod, c) for c in pod.containers.values()))
        ready = []
        for c, ok in zip(pod.containers.values(), pulled, strict=True):
            missing = ok and missing_reference(c.spec)
            if missing:  # no ConfigMap or Secret API here: every reference is to something missing
                c.reason, c.message = "CreateContainerConfigError", missing
                self.emit(pod, "Warning", "Failed", f"Error: {missing}")
            elif ok:
                ready.append(c)
        if ready:
            await self._play(pod, ready)

    # -- images -------------------------------------------------------------------------------------
    async def _pull(self, pod: Pod, c: Container) -> bool:
        """Pull as the kubelet does; True once the image is there. A rate limit is retried after a
        back-off; an image the registry does not have keeps the container in ImagePullBackOff."""
        backoff = BACKOFF_START
        while True:
            self.emit(pod, "Normal", "Pulling", f'Pulling image "{c.image}"')
            began = time.monotonic()
            if self.faults.pull_slow:
                fired("pull-slow", f"pulling {c.image} takes {self.faults.pull_slow:g} s")
                await asyncio.sleep(self.faults.pull_slow)
            if self.faults.pull_429 > 0:
                self.faults.pull_429 -= 1
                fired("pull-429", f"pull of {c.image} rate-limited ({self.faults.pull_429} more to come)")
                error = (f'failed to pull and unpack image "{full_image(c.image)}": failed to copy: '
                         f"httpReadSeeker: failed open: unexpected status code: {RATE_LIMITED}")
            else:
                code, out, err = await podman("image", "inspect", "--format", "{{.Id}} {{.Digest}}", c.image)
                if code == 0:
                    image_id, _, digest = out.strip().partition(" ")
                    c.image_id = self._image_id(c.image, image_id, digest)
                    c.pulled = True
                    seconds = time.monotonic() - began
                    self.emit(pod, "Normal", "Pulled", f'Successfully pulled image "{c.image}" in {seconds:.3f}s')
                    return True
                if reason_for(err) == "InvalidImageName":
                    c.reason, c.message = "InvalidImageName", (
                        f'Failed to apply default image tag "{c.image}": '
                        f'couldn\'t parse image reference "{c.image}": invalid reference format')
                    self.emit(pod, "Warning", "InspectFailed", c.message)
                    self.emit(pod, "Warning", "Failed", "Error: InvalidImageName")
                    return False
                error = (f'failed to pull and unpack image "{full_image(c.image)}": failed to resolve reference '
                         f'"{full_image(c.image)}": {full_image(c.image)}: not found')
                pod.tasks.append(asyncio.create_task(self._pull_failed(pod, c, error, backoff)))
                return False
            await self._pull_failed(pod, c, error, backoff, once=True)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _image_id(self, image: str, image_id: str, digest: str) -> str:
        """The container's imageID, as containerd's CRI reports it: the image's first digest reference, or
        its image ID when it has none (containerd, internal/cri: container status imageRef, and
        GetRepoDigestAndTag on pull). The fault image-id picks the form; the node lists the same names."""
        tag = full_image(image.split("@", 1)[0])
        repository = tag.rsplit(":", 1)[0] if ":" in tag.rsplit("/", 1)[-1] else tag
        form = self.faults.image_id if digest.startswith("sha256:") else "bare"
        if form == "import":  # ctr images import --digests (kind load), containerd 2.3: kind #4184
            reference = f"docker.io/library/import-2026-01-31@{digest}"
        elif form == "registry-1":
            repository = repository.replace("docker.io/", "registry-1.docker.io/", 1)
            tag = tag.replace("docker.io/", "registry-1.docker.io/", 1)
            reference = f"{repository}@{digest}"
        elif form == "repo":
            reference = f"{repository}@{digest}"
        else:
            reference = ""
        # the node's status.images: repository digests, then tags (kubelet nodestatus/setters.go, Images)
        self.images[image_id] = [*([reference] if reference else []), tag]
        if form != "repo":
            fired("image-id", f"{image} reported as {reference or f'sha256:{image_id}'}")
        return reference or f"sha256:{image_id}"

    def node_images(self) -> list[dict[str, Any]]:
        """The node's status.images: every image this kubelet pulled."""
        return [{"names": names, "sizeBytes": 0} for names in self.images.values()]

    async def _pull_failed(self, pod: Pod, c: Container, error: str, backoff: float, once: bool = False) -> None:
        """ErrImagePull, then ImagePullBackOff for the back-off; for ever unless `once`."""
        while not pod.deleting:
            code = "Unknown" if once else "NotFound"
            c.reason, c.message = "ErrImagePull", f"rpc error: code = {code} desc = {error}"
            self.emit(pod, "Warning", "Failed", f'Failed to pull image "{c.image}": {c.message}')
            self.emit(pod, "Warning", "Failed", "Error: ErrImagePull")
            await asyncio.sleep(ERR_IMAGE_PULL_SHOWN)
            c.reason, c.message = "ImagePullBackOff", f'Back-off pulling image "{c.image}"'
            self.emit(pod, "Normal", "BackOff", c.message)
            self.emit(pod, "Warning", "Failed", "Error: ImagePullBackOff")
            await asyncio.sleep(max(0.0, backoff - ERR_IMAGE_PULL_SHOWN))
            if once:
                return
            backoff = min(backoff * 2, BACKOFF_MAX)
            self.emit(pod, "Normal", "Pulling", f'Pulling image "{c.image}"')

    # -- playing ------------------------------------------------------------------------------------
    async def _play(self, pod: Pod, containers: list[Container]) -> None:
        played = self._playable(pod, {c.name for c in containers})
        path = self.workdir / f"{pod.podman_name}.yaml"
        path.write_text(yaml.safe_dump(played))
        code, played_ids, err = await podman("kube", "play", str(path), timeout=120)
        if code != 0:
            print(f"fake-cluster: podman kube play {pod.podman_name} failed: {err.strip()}", flush=True)
            await remove_pods([pod.podman_name])
            reason, message = reason_for(err) or "", error_text(err)  # "": the machine's, no kubelet reason
            for c in containers:
                c.reason, c.message = reason, message
            self.emit(pod, "Warning", "Failed", f"Error: {message}")
            return
        # the Pod's IP is its infra container's: one inspect of it by name (`kube play` prints the pod's ID)
        lines = played_ids.split()
        pod_id = lines[lines.index("Pod:") + 1] if "Pod:" in lines[:-1] else ""
        _, out, _ = await podman("container", "inspect", "--format", "{{.Id}} {{range .NetworkSettings.Networks}}"
                                 "{{.IPAddress}} {{end}}", f"{pod_id[:12]}-infra") if pod_id else (1, "", "")
        if not out.strip():  # no ID printed: ask the pod
            _, out, _ = await podman("pod", "inspect", "--format", "{{.InfraContainerID}}", pod.podman_name)
        pod.infra_id, *addresses = out.split() or [""]
        pod.ip = addresses[0] if addresses else ""
        for c in pod.inits.values():
            c.played = True
            self.emit(pod, "Normal", "Created", f"Created container {c.name}")
            self.emit(pod, "Normal", "Started", f"Started container {c.name}")
        for c in containers:
            c.played = True
            self.emit(pod, "Normal", "Created", f"Created container {c.name}")
            self.emit(pod, "Normal", "Started", f"Started container {c.name}")
        await self._look()

    def _playable(self, pod: Pod, names: set[str]) -> dict[str, Any]:
        spec = copy.deepcopy(pod.obj["spec"])
        inits = spec.pop("initContainers", None) or []
        # native sidecars: podman 4.3 cannot run an init container that keeps running (play would wait for
        # it for ever), so they are played as containers, started before the others
        sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
        ordinary = [c for c in inits if c.get("restartPolicy") != "Always"]
        for c in sidecars:
            c.pop("restartPolicy")
        spec["containers"] = sidecars + [c for c in spec["containers"] if c["name"] in names]
        if ordinary:
            spec["initContainers"] = ordinary
        # the ServiceAccount token volume the API server added: nothing serves tokens here
        spec["volumes"] = [v for v in spec.get("volumes") or [] if not v["name"].startswith(TOKEN_VOLUME)]
        for c in spec["containers"] + spec.get("initContainers", []):
            c["volumeMounts"] = [m for m in c.get("volumeMounts") or [] if not m["name"].startswith(TOKEN_VOLUME)]
        for c in spec["containers"] + spec.get("initContainers", []):
            for key in ("ports", "readinessProbe", "livenessProbe", "startupProbe", "imagePullPolicy"):
                c.pop(key, None)
            podman_play.expand_container(c)  # the kubelet expands $(VAR) in command and args; podman 4.3 does not
            podman_play.bound_resources(c)  # memory and CPU limits, as the run's LimitRange caps them on a cluster
        spec["restartPolicy"] = "Never"  # restarts are this kubelet's, with back-off
        # a Pod's hostname is its name (the kubelet's GeneratePodHostNameAndDomain), not the played copy's
        spec.setdefault("hostname", pod.name)
        for volume in spec.get("volumes") or []:
            # emptyDir: a fresh directory (podman's anonymous volume copies the image's files in);
            # hostPath: the node's path, and the node here is not this machine: a fresh directory too
            if "emptyDir" in volume or "hostPath" in volume:
                path = self.workdir / pod.podman_name / volume["name"]
                path.mkdir(parents=True, exist_ok=True)
                volume.pop("emptyDir", None)
                volume["hostPath"] = {"path": str(path), "type": "Directory"}
        metadata: dict[str, Any] = {"name": pod.podman_name, "labels": {SERVER_LABEL: self.sid, **owner_labels()}}
        if spec.get("initContainers"):  # kept after they ran, to be looked at ("once" removes them)
            metadata["annotations"] = {podman_play.INIT_CONTAINER_TYPE: "always"}
        # the owner: a parallel test worker's leftover check ignores the Pods of a live fake cluster
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

    async def add_ephemeral(self, pod: Pod, spec: dict[str, Any]) -> None:
        """An ephemeral container (kubectl debug): run in the Pod, with the emptyDir mounts it names."""
        c = Container(spec["name"], spec.get("image", ""), f"{pod.podman_name}-{spec['name']}", ephemeral=True)
        pod.ephemeral[c.name] = c
        if self.faults.ephemeral_pull_slow:  # the node's first pull of the image: ContainerCreating meanwhile
            self.emit(pod, "Normal", "Pulling", f'Pulling image "{c.image}"')
            fired("ephemeral-pull-slow", f"pulling {c.image} for {c.name} takes {self.faults.ephemeral_pull_slow:g} s")
            await asyncio.sleep(self.faults.ephemeral_pull_slow)
        if not await self._pull(pod, c):
            return
        argv = ["run", "-d", "--pod", pod.podman_name, "--name", c.podman_name, "--label", f"{SERVER_LABEL}={self.sid}"]
        for mount in spec.get("volumeMounts") or []:
            folder = self.workdir / pod.podman_name / mount["name"]
            if folder.is_dir():
                argv += ["-v", f"{folder}:{mount['mountPath']}" + (":ro" if mount.get("readOnly") else "")]
        if spec.get("command"):
            argv += ["--entrypoint", json.dumps(spec["command"])]
        code, _, err = await podman(*argv, c.image, *(spec.get("args") or []))
        if code != 0:
            c.reason, c.message = reason_for(err) or "", error_text(err)  # "": the machine's, no kubelet reason
            return
        c.played = True
        self.emit(pod, "Normal", "Created", f"Created container {c.name}")
        self.emit(pod, "Normal", "Started", f"Started container {c.name}")
        await self._look(f"^{pod.podman_name}-", [pod])

    async def _live_prober(self, pod: Pod, c: Container, spec: dict[str, Any]) -> None:
        """The kubelet's liveness prober for one run of a container (kubernetes/kubernetes pkg/kubelet/prober/
        worker.go, and kuberuntime_manager.go computePodActions for the kill): after initialDelaySeconds, a try
        every periodSeconds; failureThreshold failures in a row kill the container with its grace (the probe's
        terminationGracePeriodSeconds, else the Pod's, at least 2 s: kuberuntime_container.go), and the restart
        follows the Pod's restartPolicy with the usual back-off. Its events are the kubelet's."""
        await asyncio.sleep(float(spec.get("initialDelaySeconds", 0)))
        failures, run = 0, c.restart_count
        while not pod.deleting and c.state == "running" and c.restart_count == run:  # this run only
            ok, why = await probe(pod.podman_name, f"{SERVER_LABEL}={self.sid}", c.podman_name, spec, c.spec)
            failures = 0 if ok else failures + 1
            if not ok:
                self.emit(pod, "Warning", "Unhealthy", f"Liveness probe failed: {why}")
            if failures >= int(spec.get("failureThreshold", 3)):
                restarted = c.restart_policy(pod.policy) != "Never"
                self.emit(pod, "Normal", "Killing", f"Container {c.name} failed liveness probe"
                                                    + (", will be restarted" if restarted else ""))
                c.killed_by_probe = True
                own = spec.get("terminationGracePeriodSeconds", pod.obj["spec"].get("terminationGracePeriodSeconds"))
                grace = max(2, int(own if own is not None else 30))
                await podman("stop", "-t", str(grace), c.podman_name, timeout=grace + 30)
                return
            await asyncio.sleep(float(spec.get("periodSeconds", 10)))

    async def _prober(self, pod: Pod, c: Container, spec: dict[str, Any]) -> None:
        """The kubelet's readiness prober for one run of a container: Ready after a success, not
        Ready after failureThreshold failures in a row; "Unhealthy" events for failures."""
        await asyncio.sleep(float(spec.get("initialDelaySeconds", 0)))
        failures = 0
        while not pod.deleting and c.state == "running":
            ok, why = await probe(pod.podman_name, f"{SERVER_LABEL}={self.sid}", c.podman_name, spec, c.spec)
            if ok:
                failures, c.probe_ready = 0, True
            else:
                failures += 1
                self.emit(pod, "Warning", "Unhealthy", f"Readiness probe failed: {why}")
                if failures >= int(spec.get("failureThreshold", 3)):
                    c.probe_ready = False
            await asyncio.sleep(float(spec.get("periodSeconds", 10)))

    # -- watching the containers -------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(MONITOR_EVERY)
            if self.pods:
                try:
                    await self._look()
                except Exception as error:  # noqa: BLE001 - a monitor that dies leaves stale statuses
                    print(f"fake-cluster: monitor: {error!r}", flush=True)

    async def refresh(self, pod: Pod) -> None:
        """Look at one Pod's containers now: a status read must not lag behind a container that exited
        (podman's backend reads live too, and the verdict table must not depend on the monitor's beat)."""
        if any(c.played for c in pod.watched()) and not pod.deleting:
            await self._look(f"^{pod.podman_name}-", [pod])

    async def _look(self, prefix: str | None = None, pods: list[Pod] | None = None) -> None:
        async with self._looking:  # one look at a time: a listing older than a restart would undo it
            code, out, _ = await podman("ps", "--all", "--format", "json", "--filter",
                                        f"name={prefix or f'^fc{self.sid}-'}")
            if code != 0:
                return
            seen = {entry["Names"][0]: entry for entry in yaml.safe_load(out or "[]") or []}
            for pod in pods if pods is not None else list(self.pods.values()):
                if pod.deleting:
                    continue
                for c in pod.watched():
                    if c.played and c.podman_name in seen:
                        await self._observe(pod, c, seen[c.podman_name])

    async def _observe(self, pod: Pod, c: Container, entry: dict[str, Any]) -> None:
        c.container_id = entry.get("Id", "")
        started, state = str(entry.get("StartedAt", "")), entry.get("State", "")
        if state == "running":
            c.state, c.reason, c.message, c.restart_at = "running", "", "", None
            c.started_at = now_iso(float(started)) if started.isdigit() else now_iso()
            if "readinessProbe" in c.spec and (c.prober is None or c.prober.done()):
                c.prober = asyncio.create_task(self._prober(pod, c, c.spec["readinessProbe"]))
                pod.tasks.append(c.prober)
            if "livenessProbe" in c.spec and (c.live_prober is None or c.live_prober.done()):
                c.live_prober = asyncio.create_task(self._live_prober(pod, c, c.spec["livenessProbe"]))
                pod.tasks.append(c.live_prober)
            return
        if c.prober:
            c.prober.cancel()
            c.prober, c.probe_ready = None, False
        if c.live_prober and c.live_prober.done():  # not cancelled while it stops the container it killed
            c.live_prober = None
        if state != "exited":
            return
        if not c.exit_handled:  # a run that just ended
            c.exit_handled = True
            code = int(entry.get("ExitCode") or 0)
            ended = entry.get("ExitedAt")
            term = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                    # a run too short to be seen running (an init container) began when podman says
                    "startedAt": c.started_at or now_iso(float(started) if started.isdigit() else None),
                    "finishedAt": now_iso(float(ended) if ended else None),
                    "containerID": f"podman://{c.container_id}"}
            policy = c.restart_policy(pod.policy)
            if c.init and code != 0 and policy != "Never":  # not restarted here (see the module's docstring)
                c.last_terminated, c.state, c.reason = term, "waiting", "CrashLoopBackOff"
                c.message = f"back-off {c.backoff:g}s restarting failed container={c.name} pod={pod.name}_" \
                            f"{pod.namespace}({pod.obj['metadata']['uid']})"
                return
            killed, c.killed_by_probe = c.killed_by_probe, False  # OnFailure restarts a killed one, whatever its code
            if c.ephemeral or c.init or policy == "Never" or (policy == "OnFailure" and code == 0 and not killed):
                c.state, c.terminated = "terminated", term
                return
            c.last_terminated, c.state = term, "waiting"
            if c.restart_count == 0:
                c.restart_at = time.monotonic()
            else:
                c.restart_at = time.monotonic() + c.backoff
                if self.faults.restart_backoff != BACKOFF_START:
                    fired("restart-backoff", f"container {c.name} restarts in {c.backoff:g} s")
                c.reason = "CrashLoopBackOff"
                c.message = f"back-off {c.backoff:g}s restarting failed container={c.name} pod={pod.name}_" \
                            f"{pod.namespace}({pod.obj['metadata']['uid']})"
                self.emit(pod, "Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod "
                                                     f"{pod.name}_{pod.namespace}({pod.obj['metadata']['uid']})")
                c.backoff = min(c.backoff * 2, BACKOFF_MAX)
        if c.restart_at is not None and time.monotonic() >= c.restart_at and not pod.deleting:
            c.restart_at = None
            c.runs_began.append(time.time())  # before any line of the new run: logs tell runs apart by it
            code, _, err = await podman("start", c.podman_name)
            deadline = time.monotonic() + SANDBOX_STOPPING_WAIT
            while code != 0 and sandbox_stopping(err) and time.monotonic() < deadline:
                await asyncio.sleep(0.25)  # podman was stopping the pod's infra container: a node keeps the sandbox
                code, _, err = await podman("start", c.podman_name)
            if code == 0:
                c.restart_count += 1
                c.exit_handled = False
                c.state, c.reason, c.message, c.started_at = "running", "", "", now_iso()
                self.emit(pod, "Normal", "Started", f"Started container {c.name}")
            else:
                c.reason, c.message = "RunContainerError", error_text(err)
