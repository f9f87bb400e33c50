"""The installed kubectl, run as a student runs it, against the test cluster or a cluster of one's own:
the outside check of the test cluster, of the labs' READMEs and of how the graders read files.

`kubectl` on PATH (on the build machines the Google Cloud CLI's dispatcher, which runs the kubectl.1.NN
beside it that matches the server's minor version, else its own 1.32). Tests skip, saying why, only
where there is none.
"""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# Where CI's kind job points the README steps at its real cluster (then no test cluster is started)
EXTERNAL_KUBECONFIG = "K8S101_KUBECTL_KUBECONFIG"
NO_KUBECTL = "no kubectl on PATH: these tests use the installed kubectl as the outside check (install one)"


def external_kubeconfig() -> Path | None:
    """The kubeconfig of a real cluster to run against instead of the test cluster (CI's kind job)."""
    value = os.environ.get(EXTERNAL_KUBECONFIG)
    return Path(value).resolve() if value else None


def installed() -> str:
    """The kubectl on PATH, or the test is skipped with the reason."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip(NO_KUBECTL)
    return found


@dataclass
class Ran:
    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (f"$ {self.command}\n(exit {self.returncode} after {self.seconds:.1f} s)\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")


@dataclass
class Kubectl:
    """kubectl with a kubeconfig and a discovery cache of its own (KUBECACHEDIR), in a working folder."""
    kubeconfig: Path
    cache: Path
    cwd: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(self.cache)}

    def run(self, command: str, timeout: float = 120) -> Ran:
        """`command` as a shell would split it (the README's quoting), without a shell."""
        argv = shlex.split(command)
        assert argv[0] == "kubectl", command
        started = time.monotonic()
        try:
            done = subprocess.run([installed(), *argv[1:]], cwd=self.cwd, env=self.env(), capture_output=True,
                                  text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as error:
            so_far = b"".join(part if isinstance(part, bytes) else str(part).encode()
                              for part in (error.stdout, error.stderr) if part)
            raise AssertionError(f"$ {command}\ndid not finish within {timeout:g} s; its output so far:\n"
                                 f"{so_far.decode(errors='replace')}") from None
        return Ran(command, done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def until(self, command: str, wanted: str, timeout: float) -> Ran:
        """Start `command` (one that never ends on its own, `get -w`) and stop it once a line holds `wanted`."""
        process = subprocess.Popen([installed(), *shlex.split(command)[1:]], cwd=self.cwd, env=self.env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   stdin=subprocess.DEVNULL)
        lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: [*map(lines.put, process.stdout), lines.put(None)],  # type: ignore
                                  daemon=True)
        reader.start()
        started, seen = time.monotonic(), []
        try:
            while (left := timeout - (time.monotonic() - started)) > 0:
                try:
                    line = lines.get(timeout=left)
                except queue.Empty:
                    break
                if line is None:
                    break
                seen.append(line)
                if wanted in line:
                    break
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
        return Ran(command, process.returncode, "".join(seen), err, time.monotonic() - started)
