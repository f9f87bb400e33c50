"""One grading run on podman as every part of its sandbox sees it: its names, labels and folder, the Pods as
submitted and what became of them, and the notes that stand in for a cluster's events. The parts (state.py,
limits.py, evidence.py, images.py, the sandbox and its kubelet's runtime) share this record, each reading what it
needs; the per-part bookkeeping stays with its part."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.backends.base import PodState
from graders.backends.podman import cli
from graders.errors import InfraError


@dataclass
class PodmanRun:
    podman: str  # the podman binary
    run_id: str
    lab_id: str  # for commands the student is told to run
    labels: dict[str, str]  # the run's and its owner's, on everything it makes
    workdir: Path  # the run's folder on the host (host.py)
    network: str  # the run's own `--internal` network
    submitted: dict[str, dict[str, Any]] = field(default_factory=dict)  # student's name -> Pod as submitted
    failed: dict[str, PodState] = field(default_factory=dict)  # Pods whose play failed, with the status shown
    evicted: dict[str, str] = field(default_factory=dict)  # student's Pod -> why the grader evicted it
    removed: set[str] = field(default_factory=set)  # Pods deleted and seen gone: nothing of them left to remove
    notes: dict[str, list[str]] = field(default_factory=dict)  # what podman said about each Pod: its "events"
    infra: dict[str, str] = field(default_factory=dict)  # student's Pod -> its infra container's ID
    pids: dict[tuple[str, str], int] = field(default_factory=dict)  # (Pod, container) -> its first process, as read

    def pod(self, name: str) -> str:
        """podman's name of the student's Pod: pod names are global on the machine."""
        return f"{name}-{self.run_id}"

    def container(self, pod: str, container: str) -> str:
        return f"{self.pod(pod)}-{container}"

    def containers(self, pod: str) -> list[dict[str, Any]]:
        """The submitted Pod's containers ([] for a Pod never submitted)."""
        return list(self.submitted.get(pod, {}).get("spec", {}).get("containers", []))

    def call(self, *args: str, timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        return cli.call(self.podman, *args, timeout=timeout, what=what)

    def note(self, pod: str, text: str) -> None:
        self.notes.setdefault(pod, []).append(text)

    def reachable(self, pod: str) -> None:
        """Raise unless the Pod was played: the grader reaches only into Pods that run."""
        if pod in self.failed or pod not in self.submitted:
            raise InfraError(f"Pod {pod} is not running, so the grader cannot reach into it",
                             fix="this is a grader bug: checks wait for the Pod first")
