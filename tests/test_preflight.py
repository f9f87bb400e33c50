"""scripts/podman/preflight.sh: a trivial Pod plays, or the script names what is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.grading import REPO

PREFLIGHT = REPO / "scripts" / "podman" / "preflight.sh"
FAKE_PODMAN = """#!/bin/sh
case "$1 $2" in
  "kube play")
    echo 'Error: building local pause image: finding pause binary: exec: "catatonit": '\\
'executable file not found in $PATH' >&2
    exit 125 ;;
esac
exit 0
"""


def preflight(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(PREFLIGHT)], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.podman
def test_a_machine_that_plays_pods_passes() -> None:
    result = preflight(dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "podman plays Pods here" in result.stdout


def test_a_missing_catatonit_is_named_with_its_package(tmp_path: Path) -> None:
    fake = tmp_path / "podman"
    fake.write_text(FAKE_PODMAN)
    fake.chmod(0o755)
    result = preflight({**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.returncode == 1
    assert "catatonit (apt-get install catatonit)" in result.stderr


@pytest.mark.podman
def test_missing_podman_settings_are_named(tmp_path: Path) -> None:
    result = preflight({**os.environ, "CONTAINERS_CONF": str(tmp_path / "nowhere.conf")})
    assert result.returncode == 1
    assert f"CONTAINERS_CONF={tmp_path / 'nowhere.conf'}" in result.stderr
