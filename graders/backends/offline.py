"""The sandbox of a run with nothing to apply: every file was refused offline, so no backend starts
(no podman call, no kind download, no cluster) and no Pod exists."""

from __future__ import annotations

from typing import Any

from graders.backends.base import ExecResult, PodState
from graders.errors import GraderError


class OfflineSandbox:
    description = "no cluster (nothing in the submission could be applied)"

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
