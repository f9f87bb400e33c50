"""Running podman: every call bounded in output and time (bounded.py), a podman that hangs or cannot be run an
InfraError. Every module of this backend runs programs through `run` here, looked up on this module at each call
(`cli.run(...)`), so that a test that replaces it (tests/faults.py, tests/machine_faults.py) replaces every call."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from graders.backends.podman import bounded
from graders.errors import InfraError

INSTALL_HINT = ("install podman 4.x (Debian/Ubuntu: apt-get install podman); on the project's build "
                "machines run scripts/setup-debian.sh, which also points CONTAINERS_CONF at "
                "scripts/podman/containers.conf")
NOISE = ("failed to connect to syslog",)
# Bounds on what the grader reads from podman about a Pod (each stream, in bytes): what a Pod prints never
# grows the grader's own memory beyond these (bounded.py).
PODMAN_OUTPUT_LIMIT = 16 * 1024**2  # podman's own answers (inspect JSON of a Pod of 8 containers: ~100 KiB)
EXEC_OUTPUT_LIMIT = 64 * 1024  # an exec's output, its first bytes (a kubelet keeps 10 KiB of a probe's)
LOG_READ_LIMIT = 256 * 1024  # `podman logs --tail N`, its last bytes (N lines of a flood can be megabytes)
# podman's own work around a stop (signals, conmon exiting, cleanup) comes on top of the grace: on a busy 2-core
# machine `pod stop -t 3` was seen taking more than 4 s. A process timeout of grace + 1 s raced it and turned the
# student's stubborn Pod into "no points lost".
STOP_MARGIN = 30.0
SLOW_FIX = "check `podman ps`; raise the timeout with --timeout-* if the machine is slow"


def run(argv: list[str], timeout: float, limit: int = PODMAN_OUTPUT_LIMIT, keep: str = "head",
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A program's run with its output bounded (each stream at most `limit` bytes) and its time too."""
    return bounded.run(argv, timeout=timeout, limit=limit, keep=keep, cwd=cwd)


def call(podman: str, *args: str, timeout: float, what: str, limit: int = PODMAN_OUTPUT_LIMIT,
         keep: str = "head") -> subprocess.CompletedProcess[str]:
    """Run podman; InfraError when it hangs or cannot be run (its own failures are the caller's to read)."""
    try:
        return run([podman, *args], timeout=timeout, limit=limit, keep=keep)
    except subprocess.TimeoutExpired:
        raise no_answer(timeout, what, list(args)) from None
    except OSError as error:
        raise cannot_run(error, what, [podman, *args]) from error


def no_answer(seconds: float, what: str, args: list[str], fix: str = SLOW_FIX) -> InfraError:
    """podman did not return within `seconds` (busy, or stuck itself): the machine's, never the submission's."""
    return InfraError(f"podman did not answer within {seconds:g} s while trying to {what}",
                      tried=[" ".join(["podman", *args])], fix=fix)


def cannot_run(error: OSError, what: str, argv: list[str]) -> InfraError:
    """podman itself could not be started (removed, or its binary broken meanwhile)."""
    return InfraError(f"podman cannot be run any more ({error.strerror or error}) while trying to {what}",
                      tried=[" ".join(argv)], fix=INSTALL_HINT)


def parsed(text: str) -> list[dict[str, Any]]:
    """podman's JSON answer (a list of objects)."""
    try:
        return json.loads(text or "[]")
    except ValueError as error:
        raise InfraError(f"podman printed something that is not JSON: {error}",
                         fix="check `podman version`") from error


def strip_noise(text: str) -> str:
    """podman's output without the lines of its own logging that say nothing about the call."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(NOISE))


def label_args(labels: dict[str, str]) -> list[str]:
    return [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
