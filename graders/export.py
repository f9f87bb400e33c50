"""Export a student-facing copy of this repository, for a GitHub Classroom assignment template.

    python -m graders.export DEST

The copy holds the labs (README, starter YAML, rubric), the graders, the Classroom workflow and a
README for students. It leaves out what would hand out answers or is of no use to students: the
reference solutions and broken variants (tests/), the project's own tests, scripts and CI.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from graders.classroom import EXPORTED_WORKFLOW, WORKFLOW

REPO = Path(__file__).resolve().parents[1]
COPIED = ["labs", "graders", "conftest.py", "pytest.ini", "pyproject.toml", "kind-config.yaml", "requirements.txt",
          ".gitignore"]
# The Classroom workflow is kept where GitHub never runs it (this repository must not grade its own
# starter files on every push); only the student copy has it in .github/workflows/.
MOVED = {WORKFLOW: EXPORTED_WORKFLOW}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
STUDENTS_START, STUDENTS_END = "<!-- students:start -->", "<!-- students:end -->"
SOLUTIONS = "tests/submissions"


class ExportError(Exception):
    pass


def export(dest: Path, repo: Path = REPO) -> list[Path]:
    """Write the student copy into dest (which must not exist yet); return the files written."""
    if dest.exists():
        raise ExportError(f"{dest} already exists: choose a new folder")
    for name, target_name in [(name, name) for name in COPIED] + list(MOVED.items()):
        source = repo / name
        target = dest / target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED)
        else:
            shutil.copy2(source, target)
    (dest / "README.md").write_text(student_readme(repo), encoding="utf-8")
    pytest_ini = dest / "pytest.ini"
    pytest_ini.write_text(pytest_ini.read_text().replace("testpaths = tests", "testpaths = labs"))
    written = sorted(p for p in dest.rglob("*") if p.is_file())
    leaked = _solutions_in(written, repo)
    if leaked:
        shutil.rmtree(dest)
        raise ExportError("refusing to export: these files equal a solution under tests/submissions/: "
                          + ", ".join(str(p.relative_to(dest)) for p in leaked))
    return written


def student_readme(repo: Path) -> str:
    text = (repo / "README.md").read_text(encoding="utf-8")
    if STUDENTS_START not in text or STUDENTS_END not in text:
        raise ExportError(f"README.md lacks the {STUDENTS_START} ... {STUDENTS_END} markers")
    title, _, rest = text.partition(STUDENTS_START)
    students = rest.partition(STUDENTS_END)[0]
    intro = title.split("\n## ", 1)[0].rstrip()
    return f"{intro}\n{students.strip()}\n"


def _solutions_in(files: list[Path], repo: Path) -> list[Path]:
    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    solutions = {digest(p) for p in (repo / SOLUTIONS).rglob("*") if p.is_file()}
    return [p for p in files if digest(p) in solutions]


def main() -> None:
    parser = argparse.ArgumentParser(description="Export a student-facing copy for a Classroom template.")
    parser.add_argument("dest", type=Path, help="a new folder to write the copy into")
    dest = parser.parse_args().dest
    try:
        written = export(dest)
    except ExportError as error:
        sys.exit(f"export: {error}")
    print(f"exported {len(written)} files to {dest}; next: `git init` there and push it as the template repository")


if __name__ == "__main__":
    main()
