"""Start the fake cluster for a test: a separate process, as `python -m tests.cluster` runs it."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
CONTEXT = "fake-cluster"
START_TIMEOUT = 60.0  # a loaded 2-core machine took 16 s once
STOP_TIMEOUT = 90.0  # deleting pods waits out grace periods only for pods still being deleted


@dataclass
class FakeCluster:
    kubeconfig: Path
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)  # the server's lines, for failure messages

    def env(self) -> dict[str, str]:
        """Environment for a grading run against this cluster (the context backend reads $KUBECONFIG)."""
        import os
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}


@contextmanager
def fake_cluster(workdir: Path, *faults: str) -> Iterator[FakeCluster]:
    kubeconfig = workdir / "fake-cluster.kubeconfig"
    argv = [sys.executable, "-m", "tests.cluster", "--kubeconfig", str(kubeconfig)]
    for fault in faults:
        argv += ["--fault", fault]
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cluster = FakeCluster(kubeconfig, process)
    ready = threading.Event()

    def drain() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            cluster.output.append(line.rstrip())
            if " ready " in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake cluster did not start:\n" + "\n".join(cluster.output))
        yield cluster
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError("the fake cluster did not stop on SIGTERM:\n" + "\n".join(cluster.output)) from None
