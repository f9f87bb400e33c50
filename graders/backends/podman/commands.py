"""A command run in a container (`podman exec`), as a kubelet's exec would judge it: a command that outlives its
time is the command's failure and is ended; a podman that never started it is the machine's."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from graders.backends.base import TIMED_OUT, ExecResult
from graders.backends.podman import cli, procs
from graders.backends.podman.limits import Limits
from graders.backends.podman.run import PodmanRun
from graders.errors import InfraError

EXEC_MARGIN = 5.0  # seconds podman may take to start an exec (conmon, runc), beyond the command's own time
EXEC_SETTLE = 1.0  # seconds without a process of a timed-out exec before it is surely ended


def exec_in(run: PodmanRun, limits: Limits, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
    # podman's own start of an exec (conmon, runc) comes before the command's time: seconds on a busy machine
    what = f"run {' '.join(argv)!r} in container {container} of Pod {pod}"
    command = [run.podman, "exec", run.container(pod, container), *argv]
    try:
        result = cli.run(command, timeout=timeout + EXEC_MARGIN, limit=cli.EXEC_OUTPUT_LIMIT)
    except subprocess.TimeoutExpired:
        # Whose time was it? The command still running in the container outlived its time (the submission's,
        # as a kubelet's probe timeout says); no such process means podman never started it (the machine's).
        if stop_command(limits, pod, argv, timeout):
            return ExecResult(TIMED_OUT, "", f"the command did not finish within {timeout:g} s", timed_out=True)
        raise cli.no_answer(timeout + EXEC_MARGIN, what, command[1:]) from None
    except OSError as error:
        raise cli.cannot_run(error, what, command) from error
    stderr = cli.strip_noise(result.stderr)
    if result.returncode in (125, 126, 127) and "executable file not found" in stderr:
        return ExecResult(127, result.stdout, stderr)
    exhausted = limits.exhausted(pod, stderr) if result.returncode != 0 else None
    if exhausted:
        return ExecResult(result.returncode, result.stdout, exhausted)
    if result.returncode == 125 and "no such container" in stderr:
        raise InfraError(f"container {container} of Pod {pod} is gone: something outside the grader removed it",
                         tried=[f"podman exec {run.container(pod, container)}"],
                         fix="do not remove the grader's pods while it runs; run it again")
    return ExecResult(result.returncode, result.stdout, stderr)


def stop_command(limits: Limits, pod: str, argv: list[str], timeout: float) -> bool:
    """Kill the processes of the Pod that run exactly argv (an exec that outlived its time, as a runtime ends
    an exec at its timeout), looking again for a moment (conmon may still be starting one); True when one of
    them had run for its whole `timeout`: then the time was the command's. Read on the host, in the Pod's
    cgroup, with each process's own start time (a slow podman that started it late is the machine's)."""
    wanted = "\0".join(argv).encode() + b"\0"
    outlived = False
    quiet_since = time.monotonic()
    while pod in limits.cgroups and time.monotonic() - quiet_since < EXEC_SETTLE:
        for pid in limits.processes_running(pod):
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() != wanted:
                    continue
            except OSError:
                continue  # it has just ended
            outlived = outlived or procs.age(pid) >= timeout
            if procs.kill(pid):
                quiet_since = time.monotonic()
        time.sleep(0.1)
    return outlived
