"""Podman backend: real pods from Pod YAML with `podman kube play`, on a machine without Kubernetes.

`podman kube play` (4.3) is not Kubernetes; each difference that would change a verdict is bridged
here, so that a correct solution passes and a wrong one fails as it would on a cluster:
- Pod names are global on the machine: each Pod runs as `<name>-<run id>`, labelled with the run.
- containerPort is published on the host (two pods with port 80 collide): ports are dropped from
  the played copy; checks read the spec as submitted.
- emptyDir becomes an anonymous volume pre-filled from the image (nginx's log symlinks would land
  in it): each emptyDir is played as a bind mount of a fresh, empty per-run directory.
- A failed play (image not found, command not found) leaves a half-made pod and no Kubernetes
  status: the pod is removed and the failure is reported as the status Kubernetes would show.
- Restarts happen without back-off: a container that restarted and is not running is crash-looping.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from graders.backends.base import (
    MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL, ContainerState, ExecResult, PodState, is_stale, run_labels)
from graders.errors import InfraError

INSTALL_HINT = ("install podman 4.x (Debian/Ubuntu: apt-get install podman); on the project's build "
                "machines run scripts/setup-debian.sh, which also points CONTAINERS_CONF at "
                "scripts/podman/containers.conf")
NOISE = ("failed to connect to syslog",)
WORKDIR_PREFIX = "k8s101-"  # per-run directories for emptyDir volumes, under the temporary directory
KUBERNETES_DEFAULT_GRACE = 30


class PodmanBackend:
    name = "podman"

    def __init__(self, podman: str = "podman") -> None:
        self.podman = shutil.which(podman)
        if not self.podman:
            raise InfraError("podman is not installed or not on PATH",
                             tried=[f"looked for {podman!r} on PATH"], fix=INSTALL_HINT)
        result = _call(self.podman, "info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=30,
                       what="check that podman works")
        if result.returncode != 0:
            raise InfraError("podman is installed but does not work",
                             tried=[f"podman info: {_error_text(result.stderr)}"], fix=INSTALL_HINT)

    def open_sandbox(self, lab_id: str, run_id: str) -> "PodmanSandbox":
        return PodmanSandbox(self.podman, lab_id, run_id)

    def reap_stale(self, older_than: float) -> list[str]:
        now = time.time()
        listed = _call(self.podman, "pod", "ps", "--filter", f"label={MANAGED_BY_LABEL}={MANAGED_BY}",
                       "--format", "json", timeout=30, what="list the pods of killed runs")
        names = [pod["Name"] for pod in _json(listed.stdout) if is_stale(pod.get("Labels"), older_than, now)]
        _remove_pods(self.podman, names)
        removed = [f"podman pod {name}" for name in names]
        for workdir in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
            try:  # another run may be removing its own directory right now
                if workdir.is_dir() and now - workdir.stat().st_mtime > older_than:
                    shutil.rmtree(workdir)
                    removed.append(f"directory {workdir}")
            except OSError:
                continue
        return removed

    def close(self) -> None:
        pass


class PodmanSandbox:
    def __init__(self, podman: str, lab_id: str, run_id: str) -> None:
        self.podman = podman
        self.run_id = run_id
        self.description = f"podman pods labelled {RUN_LABEL}={run_id}"
        self.started_at = time.time()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{run_id}-"))
        self.submitted: dict[str, dict[str, Any]] = {}  # student's name -> Pod as submitted
        self.failed: dict[str, PodState] = {}  # Pods whose play failed, with the status Kubernetes shows
        self.notes: dict[str, list[str]] = {}  # what podman said about each Pod, our stand-in for events

    # -- naming -----------------------------------------------------------------------------------
    def _pod(self, name: str) -> str:
        return f"{name}-{self.run_id}"

    def _container(self, pod: str, container: str) -> str:
        return f"{self._pod(pod)}-{container}"

    # -- Sandbox ----------------------------------------------------------------------------------
    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        name = pod["metadata"]["name"]
        self.submitted[name] = copy.deepcopy(pod)
        played = self.workdir / f"{name}.yaml"
        played.write_text(yaml.safe_dump(self._playable(pod)))
        result = self._podman("kube", "play", str(played), timeout=timeout, what=f"start Pod {name}")
        self._note(name, f"podman kube play: exit {result.returncode}")
        if result.returncode == 0:
            return
        error = _error_text(result.stderr)
        self._note(name, error)
        _remove_pods(self.podman, [self._pod(name)])
        missing = {c.get("image", "") for c in pod["spec"].get("containers", []) if not self._image_exists(c.get("image", ""))}
        self.failed[name] = _failed_state(pod, error, missing)

    def state(self, pod: str) -> PodState | None:
        if pod in self.failed:
            return self.failed[pod]
        submitted = self.submitted.get(pod)
        if submitted is None:
            return None
        names = [self._container(pod, c["name"]) for c in submitted["spec"].get("containers", [])]
        result = self._podman("container", "inspect", *names, timeout=30, what=f"read Pod {pod}")
        if result.returncode != 0:
            if "no such container" in result.stderr:
                return None  # removed (by us, or behind our back)
            raise InfraError(f"podman could not read Pod {pod}: {_error_text(result.stderr)}",
                             tried=[f"podman container inspect {' '.join(names)}"], fix="check `podman ps`")
        inspected = {c["Name"]: c for c in _json(result.stdout)}
        policy = submitted["spec"].get("restartPolicy", "Always")
        containers = tuple(
            _container_state(c, inspected.get(self._container(pod, c["name"])), policy)
            for c in submitted["spec"].get("containers", []))
        return PodState(name=pod, phase=_phase(containers, policy),
                        labels=dict(submitted["metadata"].get("labels") or {}),
                        spec=submitted["spec"], containers=containers)

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        result = self._podman("exec", self._container(pod, container), *argv, timeout=timeout,
                              what=f"run {' '.join(argv)!r} in container {container} of Pod {pod}")
        stderr = _strip_noise(result.stderr)
        if result.returncode in (125, 126, 127) and "executable file not found" in stderr:
            return ExecResult(127, result.stdout, stderr)
        if result.returncode == 125 and "no such container" in stderr:
            raise InfraError(f"container {container} of Pod {pod} is gone: something outside the grader removed it",
                             tried=[f"podman exec {self._container(pod, container)}"],
                             fix="do not remove the grader's pods while it runs; run it again")
        return ExecResult(result.returncode, result.stdout, stderr)

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        if pod in self.failed:
            return ""
        result = self._podman("logs", "--tail", str(tail), self._container(pod, container),
                              timeout=30, what=f"read the logs of {container}")
        return result.stdout + _strip_noise(result.stderr) if result.returncode == 0 else ""

    def events(self, pod: str) -> list[str]:
        return list(self.notes.get(pod, []))

    def delete(self, pod: str, grace_seconds: int | None, timeout: float) -> bool:
        if pod in self.failed:  # nothing runs: podman removed it when the play failed
            del self.failed[pod]
            self._remove_volumes(pod)
            return True
        if grace_seconds is None:  # kube play ignores terminationGracePeriodSeconds; honour it here
            grace_seconds = self.submitted.get(pod, {}).get("spec", {}).get(
                "terminationGracePeriodSeconds", KUBERNETES_DEFAULT_GRACE)
        name = self._pod(pod)
        grace = max(0, min(int(grace_seconds), int(timeout) - 1))  # a grace beyond the timeout fails like kind
        self._podman("pod", "stop", "--ignore", "-t", str(grace), name, timeout=timeout, what=f"stop Pod {pod}")
        try:
            return not _remove_pods(self.podman, [name], timeout=timeout)
        finally:
            self._remove_volumes(pod)

    def leftovers(self) -> list[str]:
        left = []
        result = self._podman("pod", "ps", "--filter", f"label={RUN_LABEL}={self.run_id}",
                              "--format", "{{.Name}}", timeout=30, what="list this run's pods")
        left += [f"podman pod {line}" for line in result.stdout.split()]
        result = self._podman("ps", "--all", "--filter", f"label={RUN_LABEL}={self.run_id}",
                              "--format", "{{.Names}}", timeout=30, what="list this run's containers")
        left += [f"podman container {line}" for line in result.stdout.split()]
        if self.workdir.exists():
            left += [f"directory {path}" for path in self.workdir.glob("*/*")]
        return left

    def close(self) -> None:
        try:
            _remove_pods(self.podman, [self._pod(name) for name in self.submitted])
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------------
    def _playable(self, pod: dict[str, Any]) -> dict[str, Any]:
        """The copy of a Pod that podman plays: renamed, labelled, no host ports, real emptyDirs."""
        played = copy.deepcopy(pod)
        name = played["metadata"]["name"]
        played["metadata"]["name"] = self._pod(name)
        played["metadata"]["labels"] = {**(played["metadata"].get("labels") or {}),
                                         **run_labels(self.run_id, self.started_at)}
        spec = played["spec"]
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            container.pop("ports", None)
        for volume in spec.get("volumes", []) or []:
            if "emptyDir" in volume:
                path = self.workdir / name / volume["name"]
                path.mkdir(parents=True, exist_ok=True)
                volume.pop("emptyDir")
                volume["hostPath"] = {"path": str(path), "type": "Directory"}
        return played

    def _remove_volumes(self, pod: str) -> None:
        shutil.rmtree(self.workdir / pod, ignore_errors=True)

    def _image_exists(self, image: str) -> bool:
        return self._podman("image", "exists", image, timeout=30, what="look up an image").returncode == 0

    def _note(self, pod: str, text: str) -> None:
        self.notes.setdefault(pod, []).append(text)

    def _podman(self, *args: str, timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        return _call(self.podman, *args, timeout=timeout, what=what)


def _call(podman: str, *args: str, timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    """Run podman; InfraError when it hangs or cannot be run (its own failures are the caller's to read)."""
    try:
        return _run([podman, *args], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InfraError(f"podman did not answer within {timeout:g} s while trying to {what}",
                         tried=[" ".join(["podman", *args])],
                         fix="check `podman ps`; raise the timeout with --timeout-* if the machine is slow")
    except OSError as error:
        raise InfraError(f"podman cannot be run any more ({error.strerror or error}) while trying to {what}",
                         tried=[" ".join([podman, *args])], fix=INSTALL_HINT)


def _remove_pods(podman: str, names: list[str], timeout: float = 60, attempts: int = 3) -> list[str]:
    """Stop at once and remove pods with their containers; missing ones are fine. `pod rm --force` can
    return while a crash-looping container restarts and keeps its pod: such pods are removed again.
    Returns the pods still there after the last attempt."""
    for _ in range(attempts):
        if not names:
            break
        _call(podman, "pod", "rm", "--force", "--ignore", "-t", "0", *names, timeout=timeout, what="remove pods")
        names = [name for name in names
                 if _call(podman, "pod", "exists", name, timeout=30, what="look up a pod").returncode == 0]
    return names


def _json(text: str) -> list[dict[str, Any]]:
    try:
        return json.loads(text or "[]")
    except ValueError as error:
        raise InfraError(f"podman printed something that is not JSON: {error}", fix="check `podman version`")


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          errors="replace")


def _strip_noise(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(NOISE))


def _error_text(stderr: str) -> str:
    lines = [line.strip() for line in _strip_noise(stderr).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return " | ".join(errors or lines[-3:]) or "no error output"


def _failed_state(pod: dict[str, Any], error: str, missing_images: set[str]) -> PodState:
    """The status a kubelet would show for a Pod whose containers podman could not start: an image
    problem is the reason of the containers whose image is missing; other containers wait."""
    reason = _reason_for(error)
    image_problem = reason in ("ErrImagePull", "InvalidImageName")

    def blamed(container: dict[str, Any]) -> bool:
        return not image_problem or container.get("image", "") in missing_images or not missing_images

    containers = tuple(
        ContainerState(name=c.get("name", ""), image=c.get("image", ""), running=False, ready=False,
                       reason=reason if blamed(c) else "ContainerCreating", message=error if blamed(c) else "")
        for c in pod["spec"].get("containers", []))
    return PodState(name=pod["metadata"]["name"], phase="Pending",
                    labels=dict(pod["metadata"].get("labels") or {}), spec=pod["spec"], containers=containers)


def _reason_for(error: str) -> str:
    if re.search(r"invalid reference format|repository name must be", error):
        return "InvalidImageName"
    if re.search(r"short-name|pinging container registry|initializing source|manifest unknown|"
                 r"image not known|reading manifest|unable to pull|no such image", error, re.I):
        return "ErrImagePull"
    if re.search(r"executable file not found|no such file or directory|permission denied", error, re.I):
        return "RunContainerError"
    return "CreateContainerError"


def _container_state(spec: dict[str, Any], inspected: dict[str, Any] | None, policy: str) -> ContainerState:
    name, image = spec.get("name", ""), spec.get("image", "")
    if inspected is None:
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    state = inspected.get("State", {})
    status = state.get("Status", "")
    restarts = int(inspected.get("RestartCount", 0) or 0)
    exit_code = state.get("ExitCode")
    if status == "running":
        return ContainerState(name, image, running=True, ready=True, restarts=restarts,
                              exit_code=exit_code if restarts else None)
    if status in ("created", "configured", "initialized"):
        return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason="ContainerCreating")
    # exited / stopped: Kubernetes restarts it (back-off) unless the policy says otherwise
    message = f"exited with code {exit_code}" + (f": {state['Error']}" if state.get("Error") else "")
    if policy == "Never" or (policy == "OnFailure" and exit_code == 0):
        reason = "Completed" if exit_code == 0 else "Error"
    else:
        reason = "CrashLoopBackOff"
    return ContainerState(name, image, running=False, ready=False, restarts=max(restarts, 1) if reason ==
                          "CrashLoopBackOff" else restarts, reason=reason, message=message, exit_code=exit_code)


def _phase(containers: tuple[ContainerState, ...], policy: str) -> str:
    if all(c.running for c in containers):
        return "Running"
    if policy != "Always" and all(c.reason in ("Completed", "Error") for c in containers):
        return "Succeeded" if all(c.reason == "Completed" for c in containers) else "Failed"
    if any(c.running or c.restarts for c in containers):
        return "Running"
    return "Pending"
