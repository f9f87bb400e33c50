"""The project's own test suite. It asserts that nothing it ran is left on the machine."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from graders.backends.podman import owners

# The fake Kubernetes API's fixtures, for every test module: imported into a module, each test's
# parameter of the same name would redefine the import (ruff F811)
from tests.kube_fakes import kube_api, proxy, silent_server  # noqa: F401  (fixtures, used by name)
from tests.podman_guard import (  # noqa: F401 (fixtures)
    alone_first, alone_or_shared, alone_tests_done, name_the_test_for_podman, podman_refused_unless_selected)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    alone_first(items)


# Each test process is a session of its own (every pytest-xdist worker too): what its tests start carries
# its session label (owners.SESSION_VARIABLE, inherited by every grading run and fake cluster it starts), and
# its leftover check counts only that, so other sessions on the same machine (another worker, another
# developer's run) neither fail it nor are failed by it.
SESSION = f"tests-{uuid.uuid4().hex[:12]}"
os.environ[owners.SESSION_VARIABLE] = SESSION
# A worker checks at its end while others still run; what one of its own tests is still removing (a grading
# run killed by the test) gets this long.
SETTLE_SECONDS = 15


def podman_objects() -> set[str]:
    """Every podman pod, container and network of this session (by its label, or a container by its pod: infra
    containers carry no labels), the graders' work folders it owns, and every podman volume on the machine
    (the graders never create one: an emptyDir is a folder of the run's; any new volume is a bug)."""
    found = {f"dir {path}" for path in glob.glob(os.path.join(tempfile.gettempdir(), "k8s101-*"))
             if _ours(_owner_file(path))}
    if shutil.which("podman") is None:
        return found
    pods = {pod["Id"] for pod in _listed(["pod", "ps"]) if _ours(pod.get("Labels") or {})}
    found |= {f"pod {pod[:12]}" for pod in pods}
    found |= {f"container {item['Id'][:12]}" for item in _listed(["ps", "-a"])
              if item.get("Pod") in pods or _ours(item.get("Labels") or {})}
    found |= {f"network {item['name']}" for item in _listed(["network", "ls"]) if _ours(item.get("labels") or {})}
    result = subprocess.run(["podman", "volume", "ls", "-q"], capture_output=True, text=True, timeout=60)
    return found | {f"volume {line}" for line in result.stdout.split()}


def _listed(argv: list[str]) -> list[dict]:
    result = subprocess.run(["podman", *argv, "--format", "json"], capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout or "[]")


def _owner_file(folder: str) -> dict[str, str]:
    try:
        labels = json.loads(Path(folder, owners.OWNER_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return labels if isinstance(labels, dict) else {}


def _ours(labels: dict[str, str]) -> bool:
    return labels.get(owners.SESSION_LABEL) == SESSION


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
    deadline = time.monotonic() + SETTLE_SECONDS
    while left and time.monotonic() < deadline:  # what a parallel worker's test is removing right now
        time.sleep(1)
        left &= podman_objects()
    assert not left, f"the test run left these behind: {sorted(left)}"
