"""The sandbox of a run with nothing to apply: every file was refused offline, so no backend starts
(no podman call, no kind download, no cluster) and no Pod exists."""

from __future__ import annotations

from typing import Any

from graders.backends.base import ExecResult, HttpResponse, PodState
from graders.errors import GraderError


class OfflineSandbox:
    description = "no cluster (nothing in the submission could be applied)"
    probes_readiness = False

    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        raise GraderError("an offline sandbox cannot apply Pods")

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        return None

    def state(self, pod: str) -> PodState | None:
        return None

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        raise GraderError("an offline sandbox runs no container")

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        return ""

    def events(self, pod: str) -> list[str]:
        return []

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        return True

    def leftovers(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        raise GraderError("an offline sandbox has no Pod to ask")

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        raise GraderError("an offline sandbox has no Pod to connect to")

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        raise GraderError("an offline sandbox has no volume")

    def image_digests(self, image: str) -> set[str] | None:
        return None  # nothing resolved any image

    def first_process_status(self, pod: str, container: str, timeout: float) -> str | None:
        return None  # no container runs

    def running_program(self, pod: str, container: str, image: str, program: str) -> None:
        return None  # no container runs

    def node_labels(self) -> dict[str, frozenset[str]] | None:
        return None  # no nodes
