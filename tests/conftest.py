"""The project's own test suite. It asserts that nothing it ran is left on the machine."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from graders.backends import podman

# The fake Kubernetes API's fixtures, for every test module: imported into a module, each test's
# parameter of the same name would redefine the import (ruff F811)
from tests.kube_fakes import kube_api, proxy, silent_server  # noqa: F401  (fixtures, used by name)
from tests.podman_guard import (  # noqa: F401 (fixtures)
    alone_first, alone_or_shared, alone_tests_done, name_the_test_for_podman, podman_refused_unless_selected)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    alone_first(items)


# Parallel workers (pytest-xdist) each check at their end while others still run: a run another worker's
# test just killed is reaped by the next run that starts. What is still there after this long was left.
SETTLE_SECONDS = 15


def podman_objects() -> set[str]:
    """Every podman pod, container and volume on the machine, plus the graders' work directories, except
    what another grading run still going on owns (its owner labels name a live process other than this
    one: runs may share the machine). Everything this session started has ended by its end, so what it
    left behind is counted."""
    found = {f"dir {path}" for path in glob.glob(os.path.join(tempfile.gettempdir(), "k8s101-*"))
             if not _another_live_run(_owner_file(path))}
    if shutil.which("podman") is None:
        return found
    pods = _listed(["pod", "ps"])
    others = {pod["Id"] for pod in pods if _another_live_run(pod.get("Labels") or {})}
    found |= {f"pod {pod['Id'][:12]}" for pod in pods if pod["Id"] not in others}
    found |= {f"container {item['Id'][:12]}" for item in _listed(["ps", "-a"])  # infra containers have no labels
              if item.get("Pod") not in others and not _another_live_run(item.get("Labels") or {})}
    result = subprocess.run(["podman", "volume", "ls", "-q"], capture_output=True, text=True, timeout=60)
    return found | {f"volume {line}" for line in result.stdout.split()}


def _listed(argv: list[str]) -> list[dict]:
    result = subprocess.run(["podman", *argv, "--format", "json"], capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout or "[]")


def _owner_file(folder: str) -> dict[str, str]:
    try:
        labels = json.loads(Path(folder, podman.OWNER_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return labels if isinstance(labels, dict) else {}


def _another_live_run(labels: dict[str, str]) -> bool:
    owner = labels.get(podman.OWNER_LABELS[2])
    return bool(owner) and owner != str(os.getpid()) and not podman.owner_gone(labels)


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
