"""Evidence from the grader's side of a Pod's network: HTTP and TCP made by the grader itself inside the Pod's
network namespace (netns.py; as root), or else from a grader-owned busybox container joined to it. kube play
ignores readinessProbe: the checks run the probes themselves this way, as a kubelet would; the student's
programs are not involved."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

from graders.backends.base import HttpResponse, request_path
from graders.backends.podman import cli, netns, procs
from graders.backends.podman.classification import error_text
from graders.backends.podman.run import PodmanRun
from graders.errors import InfraError

PROBE_IMAGE = "docker.io/library/busybox:1.36"  # the lab's own image: present wherever the lab runs


class PodNetwork:
    def __init__(self, run: PodmanRun) -> None:
        self.run = run
        self.namespaces: dict[str, tuple[int, str]] = {}  # student's Pod -> its infra PID, that PID's start time
        self.enter = netns.usable()  # requests of the grader's own in the Pod's network (else a probe container)

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        url = f"http://127.0.0.1:{int(port)}{request_path(path)}"
        namespace = self._entered(pod)
        if namespace:
            try:
                return netns.http_get(namespace, int(port), path, timeout)
            except netns.Unavailable as error:
                self._cannot_enter(pod, error)
        result = self._probe(pod, 'wget -S -O - "$1"', timeout, f"request {url} in Pod {pod}", url)
        return http_response(result)

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        namespace = self._entered(pod)
        if namespace:
            try:
                return netns.tcp_open(namespace, int(port), timeout)
            except netns.Unavailable as error:
                self._cannot_enter(pod, error)
        seconds = max(1, int(timeout))
        result = self._probe(pod, f"nc -w {seconds} 127.0.0.1 {int(port)} </dev/null", timeout,
                             f"connect to port {port} in Pod {pod}")
        return (not re.search(r"refused|timed out|can't connect", result.stderr, re.I)
                and result.returncode in (0, 1, 124, 143))

    def _probe(self, pod: str, script: str, timeout: float, what: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a shell script in a grader-owned, short-lived busybox container that joins the Pod's network
        namespace (and nothing else of it): the student's programs are not involved. About 0.15 s; bounded in time,
        processes and memory; labelled with the run, so leftovers() sees it should --rm ever fail."""
        run = self.run
        run.reachable(pod)
        seconds = max(1, int(timeout))
        labels = cli.label_args(run.labels)  # the run's and its owner's, as on the Pods
        result = run.call(
            "run", "--rm", "--network", f"ns:{self._namespace(pod)}",
            "--name", f"{run.pod(pod)}-grader-{uuid.uuid4().hex[:8]}",
            *labels, "--pids-limit", "32", "--memory", "64m", "--pull", "never", PROBE_IMAGE,
            "timeout", str(seconds), "sh", "-c", script, "probe", *args, timeout=seconds + 30, what=what)
        if result.returncode in (125, 126, 127):  # podman's own failure, not the probe's
            raise InfraError(f"podman could not start the grader's probe container to {what}: "
                             f"{error_text(result.stderr)}",
                             tried=[f"podman run --rm --network ns:(the network of {run.pod(pod)}) {PROBE_IMAGE}"],
                             fix=f"check that `podman image exists {PROBE_IMAGE}` and `podman pod ps` work")
        return result

    def _namespace(self, pod: str) -> str:
        """The Pod's network namespace, through its infra container. The probe joins only that, not the
        Pod's cgroup: a Pod that used up its own pids limit (a fork bomb) cannot starve the grader's probe.
        (podman 4.3 refuses `--network container:` for a container of a pod.) Remembered while the infra
        process lives (checked by its start time: a PID can be reused)."""
        run = self.run
        known = self.namespaces.get(pod)
        if known and procs.started(known[0]) == known[1]:
            return f"/proc/{known[0]}/ns/net"
        error = ""
        infra = run.infra.get(pod, "")  # known since the Pod was made
        if not infra:
            result = run.call("pod", "inspect", "--format", "{{.InfraContainerID}}", run.pod(pod), timeout=30,
                              what=f"find the network of Pod {pod}")
            infra, error = result.stdout.strip(), error_text(result.stderr) if result.returncode != 0 else ""
        pid = run.call("inspect", "--format", "{{.State.Pid}}", infra, timeout=30,
                       what=f"find the network of Pod {pod}").stdout.strip() if infra else ""
        if error or not pid.isdigit() or pid == "0":
            raise InfraError(f"podman cannot say where the network of Pod {pod} is: {error}",
                             tried=[f"podman pod inspect {run.pod(pod)}", f"podman inspect {infra or '(no infra)'}"],
                             fix="check `podman pod ps`; run the grader again")
        self.namespaces[pod] = (int(pid), procs.started(int(pid)))
        return f"/proc/{pid}/ns/net"

    def _entered(self, pod: str) -> str | None:
        """The Pod's network namespace when the grader can enter it itself (root), else None: then a
        probe container goes in instead."""
        if not self.enter:
            return None
        self.run.reachable(pod)
        return self._namespace(pod)

    def _cannot_enter(self, pod: str, error: netns.Unavailable) -> None:
        """The namespace could not be entered (a restricted root, say): probe containers from now on."""
        self.run.note(pod, f"the grader cannot enter the Pod's network itself ({error}); it uses probe containers")
        self.enter = False
        self.namespaces.pop(pod, None)


def http_response(result: subprocess.CompletedProcess[str]) -> HttpResponse:
    """busybox wget -S: the status line among the headers on stderr, the body on stdout."""
    statuses = re.findall(r"^\s*HTTP/[\d.]+ (\d{3})", result.stderr, re.M)
    if statuses:
        return HttpResponse(status=int(statuses[-1]), body=result.stdout)
    if result.returncode in (124, 143):
        return HttpResponse(status=None, error="no answer: the request timed out")
    errors = [line.removeprefix("wget: ") for line in cli.strip_noise(result.stderr).splitlines()
              if line.startswith("wget:")]
    return HttpResponse(status=None, error=errors[-1] if errors else f"no answer (exit status {result.returncode})")


def first_process_status(pid: int) -> str | None:
    """/proc/PID/status of a container's first process, read on the host: no program of the image runs (an
    exec costs 0.2-0.3 s, and the image's `cat` is the student's)."""
    if pid <= 0:
        return None
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None  # it has just exited
