"""scripts/test.sh on a checkout without the development tools says what to install (issue 22, author 2)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.grading import REPO


def test_missing_development_tools_are_named_with_how_to_install_them(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "test.sh", tmp_path / "scripts" / "test.sh")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)  # a venv made with only `pip install -r requirements.txt`
    for tool in ("python", "pytest"):
        (tmp_path / ".venv" / "bin" / tool).write_text("#!/bin/sh\nexit 0\n")
        (tmp_path / ".venv" / "bin" / tool).chmod(0o755)
    result = subprocess.run(["bash", str(tmp_path / "scripts" / "test.sh"), "-m", "not podman"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "the development tools are not installed (missing in .venv/bin: ruff mypy)" in result.stderr
    assert ".venv/bin/pip install -r requirements-dev.txt" in result.stderr
    assert "ruff found the problems" not in result.stderr and "No such file" not in result.stderr
