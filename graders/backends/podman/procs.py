"""Processes as the host's /proc shows them: the grader reads them itself, never through a program of a Pod's."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def started(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' when no such process runs): with the PID it names
    one process (a PID can be reused)."""
    if pid <= 0:
        return ""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2:].split()[19]  # field 22, counted after the command name


def age(pid: int) -> float:
    """Seconds since the process started (0 when it cannot be read)."""
    try:
        began = int(started(pid)) / os.sysconf("SC_CLK_TCK")
        return float(Path("/proc/uptime").read_text().split()[0]) - began
    except (OSError, ValueError):
        return 0.0


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def pids_in(procs: Path) -> list[int]:
    """The processes a cgroup's `cgroup.procs` lists now ([] when it is gone or unreadable)."""
    try:
        return [int(line) for line in procs.read_text().split()]
    except (OSError, ValueError):
        return []


def kill(pid: int) -> bool:
    """SIGKILL; False when the process has just ended."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return False
    return True
