"""Who made a run's objects: its host, boot, PID and the PID's start time, as labels on every object and in the
run's work folder, so that a later run can tell a run that still runs (never touched, however old) from one
whose process is provably gone (removed at once, graders/backends/podman/cleanup.py)."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

from graders.backends.podman import procs

OWNER_LABELS = ("k8s101.dev/host", "k8s101.dev/boot-id", "k8s101.dev/pid", "k8s101.dev/pid-start")
SESSION_VARIABLE = "K8S101_SESSION"  # set by a tool that starts many runs: their objects carry it as a label
SESSION_LABEL = "k8s101.dev/session"
OWNER_FILE = "owner.json"  # in a run's work folder: the same owner as its labels


def owner_labels() -> dict[str, str]:
    """Who runs this grader: host, boot, PID and the PID's start time (a PID can be reused), and the session
    it belongs to when the process that started it names one (SESSION_VARIABLE: a re-grade, a test session),
    so that such a session can tell its own objects from those of other runs on the same machine."""
    pid = os.getpid()
    owner = dict(zip(OWNER_LABELS, (socket.gethostname(), procs.boot_id(), str(pid), procs.started(pid)),
                     strict=True))
    session = os.environ.get(SESSION_VARIABLE, "")
    if re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", session):  # a valid label value, or none
        owner[SESSION_LABEL] = session
    return owner


def owner_gone(labels: dict[str, str]) -> bool:
    """True only when the owner ran on this host since its last boot and its process is gone."""
    owner = _local_owner(labels)
    return owner is not None and not _still_runs(*owner)


def owner_alive(labels: dict[str, str]) -> bool:
    """True only when the owner runs on this host since its last boot and its process still runs: its
    resources are in use however old they are (a long run, or parallel runs with a short --reap-after)."""
    owner = _local_owner(labels)
    return owner is not None and _still_runs(*owner)


def owner_file(workdir: Path) -> dict[str, str]:
    """The owner a run wrote into its work folder; {} when none was written (the age rule decides)."""
    try:
        labels = json.loads((workdir / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _still_runs(pid: int, started: str) -> bool:
    """The process with this PID runs and started when the owner's did (a PID can be reused)."""
    return started != "" and procs.started(pid) == started


def _local_owner(labels: dict[str, str]) -> tuple[int, str] | None:
    """(PID, its start time) of an owner that ran on this host since its last boot; None otherwise (another
    host or boot, or no owner labels: nothing about its process can be known here)."""
    host, boot, pid, started = (labels.get(key, "") for key in OWNER_LABELS)
    if not (host and boot and pid.isdigit()) or host != socket.gethostname() or boot != procs.boot_id():
        return None
    return int(pid), started
