"""The project's own test suite. It asserts that nothing it ran is left on the machine."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.podman_guard import name_the_test_for_podman, podman_refused_unless_selected  # noqa: F401 (fixtures)


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
def nothing_left_behind(request: pytest.FixtureRequest):
    # Only a run with podman tests can leave podman objects; the others must not even call podman
    # (the `-m "not podman"` loop passes where it is missing), nor see what parallel runs do.
    if not any(item.get_closest_marker("podman") for item in request.session.items):
        yield
        return
    before = podman_objects()
    yield
    left = podman_objects() - before
    assert not left, f"the test run left these behind: {sorted(left)}"
