"""What the grader's kubelet (kubelet.py) does to a Pod, through its sandbox: podman for the containers, the
grader's own side for probes (HTTP and TCP from inside the Pod's network, never a program of the student's image;
exec in the container, as a kubelet's exec probe runs)."""

from __future__ import annotations

import subprocess
import time
from typing import Any, Protocol

from graders import kubelet
from graders.backends.base import ExecResult, HttpResponse, request_path
from graders.backends.podman import cli, state
from graders.backends.podman.classification import SANDBOX_STOPPING_WAIT, error_text, sandbox_stopping
from graders.backends.podman.kubelet import Run
from graders.backends.podman.run import PodmanRun
from graders.errors import InfraError


class Reaches(Protocol):
    """The part of a sandbox a probe goes through."""

    run: PodmanRun

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult: ...
    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse: ...
    def tcp_open(self, pod: str, port: int, timeout: float) -> bool: ...


class KubeletRuntime:
    def __init__(self, sandbox: Reaches) -> None:
        self.sandbox = sandbox
        self.run = sandbox.run

    def inspect(self, pod: str) -> dict[str, Run] | None:
        names = [c["name"] for c in self.run.containers(pod)]
        try:
            found = {c["Name"]: c for c in state.inspected(self.run, pod)}
        except InfraError:
            return None
        return {name: state.run_of(found[self.run.container(pod, name)]) for name in names
                if self.run.container(pod, name) in found}

    def start(self, pod: str, container: str) -> str:
        """'' once started, else podman's error; a start that meets podman stopping the pod's infra container is
        tried again until that stop is done (classification.sandbox_stopping)."""
        name = self.run.container(pod, container)
        deadline = time.monotonic() + SANDBOX_STOPPING_WAIT
        while True:
            try:  # conmon inherits the working folder and writes an `oom` file there: not the student's folder
                result = cli.run([self.run.podman, "start", name], timeout=60, cwd=self.run.workdir)
            except (subprocess.TimeoutExpired, OSError) as error:
                return f"podman did not start {container} again: {error}"
            error_said = "" if result.returncode == 0 else error_text(result.stderr)
            if not sandbox_stopping(error_said) or time.monotonic() > deadline:
                return error_said
            time.sleep(0.25)

    def stop(self, pod: str, container: str, grace: int) -> None:
        """The kill of a container whose liveness or startup probe failed: its stop signal, SIGKILL after grace."""
        argv = [self.run.podman, "stop", "--ignore", "-t", str(grace), self.run.container(pod, container)]
        try:
            cli.run(argv, timeout=grace + cli.STOP_MARGIN)
        except (subprocess.TimeoutExpired, OSError) as error:
            self.note(pod, f"could not kill container {container}: {error}")

    def note(self, pod: str, text: str) -> None:
        self.run.note(pod, text)

    def probe(self, pod: str, container: str, probe: kubelet.Probe) -> tuple[bool | None, str]:
        """One try of a liveness or startup probe, in the kubelet's words (pkg/probe/http, tcp, exec); None
        when the grader could not try it (podman's trouble, not the container's): the kubelet throws such a
        result away."""
        spec: dict[str, Any] = next((c for c in self.run.containers(pod) if c.get("name") == container), {})
        try:
            return probe_once(self.sandbox, pod, container, spec, probe)
        except InfraError:
            return None, ""


def probe_once(sandbox: Reaches, pod: str, container: str, spec: dict[str, Any],
               probe: kubelet.Probe) -> tuple[bool, str]:
    """Try a probe once from the grader's side: (succeeded, why not in the kubelet's words)."""
    if probe.handler == "exec":
        command = [str(arg) for arg in (probe.spec.get("exec") or {}).get("command") or []]
        result = sandbox.exec(pod, container, command, timeout=probe.timeout)
        if result.timed_out:
            return False, f"command {' '.join(command)[:200]!r} timed out"
        output = (result.stdout + result.stderr).strip()[-200:]
        return result.exit_code == 0, output or f"command exited with code {result.exit_code}"
    action = probe.spec.get(probe.handler) or {}
    port = kubelet.probe_port(spec, action.get("port") if isinstance(action, dict) else None)
    if isinstance(port, str):
        return False, port
    if probe.handler == "httpGet":
        path = str(action.get("path") or "/")
        url = f"http://127.0.0.1:{port}{request_path(path)}"
        response = sandbox.http_get(pod, port, path, timeout=probe.timeout)
        if response.status is not None:
            return 200 <= response.status < 400, f"HTTP probe failed with statuscode: {response.status}"
        if "refused" in response.error.lower():
            return False, f'Get "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused'
        if "timed out" in response.error:
            return False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        return False, f'Get "{url}": {response.error}'
    if sandbox.tcp_open(pod, port, timeout=probe.timeout):
        if probe.handler == "grpc":  # the grader speaks no gRPC: neither image of the labs serves its health check
            return False, f"failed to connect service \"127.0.0.1:{port}\": not a gRPC health server"
        return True, ""
    return False, f"dial tcp 127.0.0.1:{port}: connect: connection refused"
