"""Grading a submission never runs its code: the installed plugin, and the instructor's re-grade of a class."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.grading import REFERENCE, grade_lab, grader_command

CONFTEST_SPY = "open({marker!r}, 'a').write({folder!r} + '\\n')\n"


def forge_conftests(folder: Path, marker: Path) -> None:
    """A conftest.py in folder and in its parent, each of which leaves a line in marker when imported."""
    for where in (folder.parent, folder):
        (where / "conftest.py").write_text(CONFTEST_SPY.format(marker=str(marker), folder=str(where)))


@pytest.mark.parametrize("form", ["--submission DIR", "--submission=DIR"])
def test_no_conftest_in_the_submission_or_its_parents_is_imported(pytester: pytest.Pytester, form: str) -> None:
    student = pytester.path / "class" / "alice"
    shutil.copytree(REFERENCE, student)
    marker = pytester.path / "imported.txt"
    forge_conftests(student, marker)
    option = ["--submission", str(student)] if form == "--submission DIR" else [f"--submission={student}"]
    result = grade_lab(pytester, "--backend", "podman", "-k", "manifests", *option)
    assert not marker.exists(), f"imported: {marker.read_text()} (is the plugin installed? `pip install -e .`)"
    result.stdout.fnmatch_lines(["*PASS*manifests*10/10*"])  # the reference was graded from DIR
    assert result.ret == 0


def test_without_the_installed_plugin_submission_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # as if the graders were not installed
    result = subprocess.run(grader_command("--backend", "podman", "-k", "manifests", "--submission", str(REFERENCE)),
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "--submission needs the graders installed as a pytest plugin" in result.stderr, result.stderr
    assert "pip install -r requirements.txt" in result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
