"""The backend interface: what checks may ask of a cluster, and nothing more.

A Backend is a place pods can run (a kind cluster, a kubeconfig context, podman). It opens one
Sandbox per graded lab: an isolated space (a namespace, or uniquely named podman pods) that
`close()` empties completely. Checks see only these types; no backend type leaks above this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Any, Protocol
from urllib.parse import quote

from graders.errors import GraderError

MANAGED_BY = "k8s101-graders"  # value of app.kubernetes.io/managed-by on everything a run creates
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
RUN_LABEL = "k8s101.dev/run-id"
STARTED_LABEL = "k8s101.dev/started-at"  # Unix time the run started: a killed run's leftovers age out
REAP_AFTER = 3600.0  # seconds after which a run's leftovers are surely not a run still going on


def run_labels(run_id: str, started_at: float) -> dict[str, str]:
    """The labels on everything a run creates: whose it is, which run, since when."""
    return {MANAGED_BY_LABEL: MANAGED_BY, RUN_LABEL: run_id, STARTED_LABEL: str(int(started_at))}


def is_stale(labels: dict[str, str] | None, older_than: float, now: float) -> bool:
    """True for resources of ours (by label) whose run started more than older_than seconds ago."""
    labels = labels or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        return False
    try:
        return now - float(labels.get(STARTED_LABEL, "")) > older_than
    except ValueError:
        return False


@dataclass(frozen=True)
class ContainerState:
    name: str
    image: str
    running: bool
    ready: bool
    restarts: int = 0
    reason: str = ""  # waiting or terminated reason: ErrImagePull, CrashLoopBackOff, Completed, ...
    message: str = ""
    exit_code: int | None = None  # of the last termination, when there was one
    image_id: str = ""  # what really runs, as the runtime names it (podman: image ID; kube: imageID); '' unknown


@dataclass(frozen=True)
class PodState:
    name: str
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    labels: dict[str, str]
    spec: dict[str, Any]  # the Pod's spec as submitted (camelCase keys)
    containers: tuple[ContainerState, ...]
    terminating: bool = False
    # the ordinary init containers (run to completion before the containers start), by name, where the
    # backend reports them: while one waits (ErrImagePull, CrashLoopBackOff) the containers only say
    # PodInitializing (kubelet, pkg/kubelet/kubelet_pods.go, convertToAPIContainerStatuses)
    init_containers: tuple[ContainerState, ...] = ()

    def container(self, name: str) -> ContainerState | None:
        return next((c for c in self.containers if c.name == name), None)


NOT_FOUND = 127  # exit code of an exec whose program is not in the image, as a shell says
TIMED_OUT = 124  # exit code of an exec whose command outlived its time and was ended (as `timeout` says)


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str  # at most the backend's bound of bytes (its first ones): what a Pod prints never fills the grader
    stderr: str
    timed_out: bool = False  # the command was still running at its timeout and was ended: the command's own fault


@dataclass(frozen=True)
class HttpResponse:
    """A request made from the grader's side into a Pod's network (never with the student's programs)."""

    status: int | None  # HTTP status; None when no HTTP answer came at all
    body: str = ""
    error: str = ""  # why there was no answer (connection refused, timed out), in the client's words


def request_path(path: str) -> str:
    """A request's path as a kubelet sends it: Go's URL parsing percent-encodes what a request line cannot
    carry (a non-ASCII character becomes its UTF-8 bytes, /caf%C3%A9 for /café; a space %20) and keeps the
    rest, a query included (k8s.io/kubernetes pkg/probe/http/request.go formatURL, through net/url)."""
    return quote("/" + path.lstrip("/"), safe="/?&=:@!$'()*+,;~%-._")


@dataclass(frozen=True)
class RunningProgram:
    """The executable a container's first process runs, as the runtime's host sees it, against the image's own."""

    path: str  # where the process found it (/proc/PID/exe): /usr/sbin/nginx, /opt/tools/busybox
    image_own: bool  # its content is that of the image's own program (a file of the image's layers)
    image_paths: tuple[str, ...]  # where the image holds that program


class ApplyRejected(GraderError):
    """The cluster refused a student's Pod (an invalid field the schema did not catch)."""


class Sandbox(Protocol):
    """One lab run's isolated space; every method takes the object's name as the student wrote it.

    apply, read, delete and leftovers work for every kind the backend runs (its `kind:<Kind>`
    capabilities, graders/backends/__init__.py); the rest is about Pods."""

    description: str  # for messages: "namespace k8s101-1-1-ab12cd on kind cluster k8s101"

    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        """Create the object (a Pod, a Service...: its `kind` says). ApplyRejected for a student error,
        InfraError otherwise (also for a kind the backend does not run)."""

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object as the backend shows it (raw JSON: metadata, spec, status), or None when it does not exist."""

    def state(self, pod: str) -> PodState | None:
        """The Pod's current state, or None when it does not exist."""

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        """Run argv in a container, with its exit code and separate stdout/stderr."""

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        """The container's last output lines ('' when there are none)."""

    def events(self, pod: str) -> list[str]:
        """Recent events about the Pod, oldest first, one line each."""

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        """Delete as `kubectl delete` does (grace None: the Pod's own); True once it is gone."""

    def leftovers(self) -> list[str]:
        """What this sandbox created that still exists, one line each ("pod web", "service web")."""

    def close(self) -> None:
        """Remove everything this sandbox created. Safe to call twice."""

    # -- evidence from the grader's side: nothing here runs a program of the student's image --------
    # (Whether the backend itself runs readinessProbes is its capability "readiness-probes".)

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        """GET http://<the Pod>:port/path from outside the Pod's containers, inside its network."""

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        """True when something in the Pod's network accepts a TCP connection on port."""

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        """The files of one of the Pod's volumes as the grader sees them: relative path -> text (the
        last MAX_VOLUME_BYTES of each file at most); InfraError when they cannot be read."""

    def first_process_status(self, pod: str, container: str, timeout: float) -> str | None:
        """The text of /proc/1/status as the container sees it (its first process: which signals it
        handles); None when it cannot be read."""

    def image_digests(self, image: str) -> AbstractSet[str] | None:
        """The identities (image IDs, sha256 digests) of a lab image reference as the backend knows it
        before anything runs; None when it cannot know (a cluster resolves tags when it pulls)."""

    def node_labels(self) -> dict[str, frozenset[str]] | None:
        """Label key -> the values the nodes carry; None when the backend has no nodes to list
        (without the capability "node-labels")."""

    def running_program(self, pod: str, container: str, image: str, program: str) -> RunningProgram | None:
        """What the container's first process runs, compared with the file named `program` on the PATH of
        `image` (a qualified reference), both read from the grader's side; None when the backend cannot
        see it (a cluster has no host /proc for the grader)."""


MAX_VOLUME_BYTES = 64 * 1024  # read at most this much of each file of a volume (its end: logs grow)


class Backend(Protocol):
    name: str

    def open_sandbox(self, lab_id: str, run_id: str) -> Sandbox:
        """An empty sandbox for one lab run; InfraError when the backend is unusable."""

    def reap_stale(self, older_than: float) -> list[str]:
        """Remove what killed runs left behind (by our labels, started more than older_than s ago)."""

    def close(self) -> None:
        """Release the backend (the kind backend may delete its cluster)."""

