"""The podman backend itself: found on PATH, it opens a sandbox per lab run and reaps what killed runs left."""

from __future__ import annotations

import shutil

from graders.backends.podman import cleanup
from graders.backends.podman.cli import INSTALL_HINT
from graders.backends.podman.sandbox import PodmanSandbox
from graders.errors import InfraError


class PodmanBackend:
    name = "podman"

    def __init__(self, podman: str = "podman") -> None:
        found = shutil.which(podman)
        if not found:
            raise InfraError("podman is not installed or not on PATH",
                             tried=[f"looked for {podman!r} on PATH"], fix=INSTALL_HINT)
        self.podman = found
        # Whether podman works shows in the first real call (the run's network), and is diagnosed
        # there: a `podman info` up front costs 0.3 s of every run.

    def open_sandbox(self, lab_id: str, run_id: str) -> PodmanSandbox:
        return PodmanSandbox(self.podman, lab_id, run_id)

    def reap_stale(self, older_than: float) -> list[str]:
        """Remove what killed runs left: at once when their process is provably gone, else by age."""
        return cleanup.reap_stale(self.podman, older_than)

    def close(self) -> None:
        pass
