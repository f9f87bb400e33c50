"""Running a program whose output a Pod controls, with the grader's memory and time bounded.

`subprocess.run(capture_output=True)` keeps everything a program prints: a readinessProbe command that prints
1.2 GB through `podman exec` became 1.2 GB (and more, decoded) in the grader's own process. Here each stream
keeps at most `limit` bytes, its first ones or its last ones, and the rest is read and dropped, so the program
never blocks on a full pipe and the grader's memory stays bounded; the whole run ends by `timeout`, when the
program is killed. This is what a kubelet does with a probe's output: it keeps the first 10 KiB
(kubernetes/kubernetes pkg/probe/exec/exec.go, maxReadLength, through ioutils.LimitWriter) and drops the rest.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


@dataclass
class _Stream:
    keep: str  # "head": the first `limit` bytes; "tail": the last ones
    limit: int
    data: bytearray
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        if self.keep == "head":
            room = self.limit - len(self.data)
            self.data += chunk[:max(0, room)]
            self.dropped += max(0, len(chunk) - max(0, room))
            return
        self.data += chunk
        if len(self.data) > 2 * self.limit:  # trimmed now and then, not on every chunk
            self.dropped += len(self.data) - self.limit
            del self.data[:len(self.data) - self.limit]

    def text(self) -> str:
        if self.keep == "tail" and len(self.data) > self.limit:
            self.dropped += len(self.data) - self.limit
            del self.data[:len(self.data) - self.limit]
        return self.data.decode("utf-8", "replace")


def run(argv: list[str], timeout: float, limit: int, keep: str = "head",
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run argv with no input; stdout and stderr keep at most `limit` bytes each (`keep`: their first or last
    ones). subprocess.TimeoutExpired once `timeout` seconds are over (the program is killed first), with what
    it had printed. The result's `dropped` attribute holds how many bytes of stdout were left out."""
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=cwd)
    assert process.stdout is not None and process.stderr is not None  # PIPE
    streams = {process.stdout.fileno(): _Stream(keep, limit, bytearray()),
               process.stderr.fileno(): _Stream(keep, limit, bytearray())}
    out, err = streams[process.stdout.fileno()], streams[process.stderr.fileno()]
    deadline = time.monotonic() + timeout
    try:
        with selectors.DefaultSelector() as selector:
            for fd in streams:
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise subprocess.TimeoutExpired(argv, timeout, output=out.text(), stderr=err.text())
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fd, CHUNK)
                    if chunk:
                        streams[key.fd].add(chunk)
                    else:
                        selector.unregister(key.fd)
        try:
            code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise subprocess.TimeoutExpired(argv, timeout, output=out.text(), stderr=err.text()) from None
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        process.stdout.close()
        process.stderr.close()
    result = subprocess.CompletedProcess(argv, code, out.text(), err.text())
    result.dropped = out.dropped  # type: ignore[attr-defined]
    return result
