"""The project's own test suite. It asserts that nothing it ran is left on the machine."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

# The fake Kubernetes API's fixtures, for every test module: imported into a module, each test's
# parameter of the same name would redefine the import (ruff F811)
from tests.kube_fakes import kube_api, proxy, silent_server  # noqa: F401  (fixtures, used by name)


def podman_objects() -> set[str]:
    """Every podman pod, container and volume on the machine, plus the graders' work directories."""
    found = {f"dir {path}" for path in glob.glob(os.path.join(tempfile.gettempdir(), "k8s101-*"))}
    if shutil.which("podman") is None:
        return found
    for kind, argv in (("pod", ["pod", "ps", "-q"]), ("container", ["ps", "-aq"]), ("volume", ["volume", "ls", "-q"])):
        result = subprocess.run(["podman", *argv], capture_output=True, text=True, timeout=60)
        found |= {f"{kind} {line}" for line in result.stdout.split()}
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    before = podman_objects()
    yield
    left = podman_objects() - before
    assert not left, f"the test run left these behind: {sorted(left)}"
