"""Faults injected into a grading run on podman (loaded with `-p tests.faults`, chosen by $K8S101_FAULT).

    pod-removed   my-first-pod is removed behind the grader's back right after it is created
    podman-gone   podman cannot be run by the checks (it is back for the final cleanup)
    exec-hangs    every command run in container log-shipper hangs
    apply-fails   creating my-first-pod fails for a reason of the machine's (podman does not answer)
"""

from __future__ import annotations

import os
import subprocess
from typing import Iterator

import pytest

from graders.backends.podman import PodmanSandbox, cli
from graders.errors import InfraError


@pytest.fixture(autouse=True, scope="session")
def _inject_fault() -> Iterator[None]:
    fault = os.environ.get("K8S101_FAULT", "")
    patch = pytest.MonkeyPatch()
    if fault == "pod-removed":
        apply = PodmanSandbox.apply

        def apply_then_remove(self, pod, timeout):
            apply(self, pod, timeout)
            if pod["metadata"]["name"] == "my-first-pod":
                subprocess.run(["podman", "pod", "rm", "-f", self.run.pod("my-first-pod")], capture_output=True)

        patch.setattr(PodmanSandbox, "apply", apply_then_remove)
    elif fault == "podman-gone":
        run = cli.run  # every podman call of the backend goes through it

        def run_while_gone(argv, timeout, **bounds):
            if argv[1] in ("container", "exec", "logs", "image"):
                raise FileNotFoundError(2, "No such file or directory", argv[0])
            return run(argv, timeout, **bounds)

        patch.setattr(cli, "run", run_while_gone)
    elif fault == "apply-fails":
        apply = PodmanSandbox.apply

        def failing_apply(self, pod, timeout):
            if pod["metadata"]["name"] == "my-first-pod":
                self.run.submitted["my-first-pod"] = pod
                raise InfraError("podman did not answer within 60 s while trying to start Pod my-first-pod")
            apply(self, pod, timeout)

        patch.setattr(PodmanSandbox, "apply", failing_apply)
    elif fault == "exec-hangs":
        exec_ = PodmanSandbox.exec

        def hanging_exec(self, pod, container, argv, timeout):
            return exec_(self, pod, container, ["sleep", "600"] if container == "log-shipper" else argv, timeout)

        patch.setattr(PodmanSandbox, "exec", hanging_exec)
    yield
    patch.undo()
