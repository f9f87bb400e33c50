"""Podman's own failures injected into a grading run (`-p tests.machine_faults`, chosen by $K8S101_MACHINE_FAULT).

    pause-image   every Pod fails to start as on a fresh machine without catatonit (podman's words)
"""

from __future__ import annotations

import os
import subprocess
from typing import Iterator

import pytest

from graders.backends.podman import cli

PAUSE_IMAGE = ('Error: building local pause image: finding pause binary: exec: "catatonit": '
               'executable file not found in $PATH')


@pytest.fixture(autouse=True, scope="session")
def _inject_machine_fault() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    if os.environ.get("K8S101_MACHINE_FAULT") == "pause-image":
        run = cli.run  # every podman call of the backend goes through it

        def run_without_catatonit(argv, timeout, **bounds):
            if argv[1:3] == ["kube", "play"]:
                return subprocess.CompletedProcess(argv, 125, "", PAUSE_IMAGE + "\n")
            return run(argv, timeout, **bounds)

        patch.setattr(cli, "run", run_without_catatonit)
    yield
    patch.undo()
