"""Export a student-facing copy of this repository, for a GitHub Classroom assignment template.

    python -m graders.export DEST

The copy holds the labs (README, starter YAML, rubric), the graders, the Classroom workflow and a
README for students. It leaves out what would hand out answers or is of no use to students: the
reference solutions and broken variants (tests/), the project's own tests, scripts and CI.

It is made from what is **committed** (git's HEAD), never from the working tree: an instructor who has
solved a lab in their checkout must not hand the solution out as the starter. Uncommitted changes under
labs/ are refused (commit or stash them); elsewhere they are left out and named. Each lab's starter is
then checked: no file may equal a file under tests/submissions/ (byte for byte, or as the same YAML
content), and a lab's starter must still hold a TODO for the student to fill in.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graders.classroom import EXPORTED_WORKFLOW, WORKFLOW

REPO = Path(__file__).resolve().parents[1]
COPIED = ["labs", "graders", "conftest.py", "pytest.ini", "pyproject.toml", "kind-config.yaml", "requirements.txt",
          ".gitignore"]
# The Classroom workflow is kept where GitHub never runs it (this repository must not grade its own
# starter files on every push); only the student copy has it in .github/workflows/.
MOVED = {WORKFLOW: EXPORTED_WORKFLOW}
STUDENTS_START, STUDENTS_END = "<!-- students:start -->", "<!-- students:end -->"
SOLUTIONS = "tests/submissions"
STARTER_SUFFIXES = (".yaml", ".yml")
TODO = "TODO"  # how a starter marks the student's work (graders/new_lab.py writes them; `manifests` refuses them)
GIT_TIMEOUT = 60
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML was built with it


class ExportError(Exception):
    pass


@dataclass
class Export:
    files: list[Path]  # every file written
    commit: str  # the commit exported
    starters: dict[str, list[str]] = field(default_factory=dict)  # lab id -> its starter files
    left_out: list[str] = field(default_factory=list)  # uncommitted changes outside labs/, not exported


def export(dest: Path, repo: Path = REPO) -> Export:
    """Write the student copy of repo's HEAD into dest (which must not exist yet)."""
    if dest.exists():
        raise ExportError(f"{dest} already exists: choose a new folder")
    commit = _git(repo, "rev-parse", "--verify", "HEAD^{commit}").strip()
    top = Path(_git(repo, "rev-parse", "--show-toplevel").strip())
    if top.resolve() != repo.resolve():
        raise ExportError(f"{repo} is inside the git checkout {top}, not its top: export from the course repository")
    changes = uncommitted(repo)
    in_labs = [change for change in changes if change.startswith("labs/")]
    if in_labs:
        raise ExportError(
            "refusing to export: labs/ has changes that are not committed, and the export ships only what is "
            f"committed (a solved lab in this checkout must not become the starter): {', '.join(in_labs)}. "
            "Commit them if they belong to the course, or set them aside with `git stash -u`, then export again")
    committed = set(_git(repo, "ls-tree", "-r", "--name-only", "-z", "HEAD").split("\0")) - {""}
    copied = [name for name in COPIED if name in committed or any(p.startswith(name + "/") for p in committed)]
    try:
        _extract(repo, copied, dest)
        for source, target in MOVED.items():
            (dest / target).parent.mkdir(parents=True, exist_ok=True)
            (dest / target).write_bytes(_show(repo, source.as_posix()))
        (dest / "README.md").write_text(student_readme(_show(repo, "README.md").decode("utf-8")), encoding="utf-8")
        pytest_ini = dest / "pytest.ini"
        pytest_ini.write_text(pytest_ini.read_text().replace("testpaths = tests", "testpaths = labs"))
        written = sorted(p for p in dest.rglob("*") if p.is_file())
        starters = _starters(dest)
        problems = _solutions_in(written, dest, repo) + _without_todo(dest, starters)
        if problems:
            raise ExportError("refusing to export: " + "; ".join(problems))
    except BaseException:
        _remove(dest)
        raise
    return Export(files=written, commit=commit, starters=starters,
                  left_out=[change for change in changes if _within(change.rsplit(" (", 1)[0], copied)])


def uncommitted(repo: Path) -> list[str]:
    """Paths (with what happened to them) that differ from HEAD in the working tree or the index."""
    status = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    words = {"M": "modified", "A": "added", "D": "deleted", "R": "renamed", "C": "copied", "?": "untracked",
             "T": "type changed", "U": "unmerged"}
    changes, entries = [], iter(status.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            next(entries, None)  # the rename's source path follows
        word = words.get(code.strip()[:1] or "M", "changed")
        changes.append(f"{path} ({word})")
    return changes


def student_readme(text: str) -> str:
    if STUDENTS_START not in text or STUDENTS_END not in text:
        raise ExportError(f"README.md lacks the {STUDENTS_START} ... {STUDENTS_END} markers")
    title, _, rest = text.partition(STUDENTS_START)
    students = rest.partition(STUDENTS_END)[0]
    intro = title.split("\n## ", 1)[0].rstrip()
    return f"{intro}\n{students.strip()}\n"


def _within(path: str, copied: list[str]) -> bool:
    return any(path == name or path.startswith(name + "/") for name in copied)


def _starters(dest: Path) -> dict[str, list[str]]:
    return {folder.name: sorted(p.name for p in folder.iterdir() if p.suffix in STARTER_SUFFIXES and p.is_file())
            for folder in sorted((dest / "labs").iterdir()) if folder.is_dir()} if (dest / "labs").is_dir() else {}


def _solutions_in(files: list[Path], dest: Path, repo: Path) -> list[str]:
    """Exported files that equal a file under tests/submissions/ (as committed there) byte for byte, and
    starters whose YAML says what a lab's reference solution says (the same Pods with other comments,
    spacing or order of keys)."""
    solutions = _committed_under(repo, SOLUTIONS)
    digests = {hashlib.sha256(data).hexdigest(): name for name, data in solutions.items()}
    found = []
    for path in files:
        data, rel = path.read_bytes(), path.relative_to(dest).as_posix()
        same = digests.get(hashlib.sha256(data).hexdigest())
        if same is None and rel.startswith("labs/") and path.suffix in STARTER_SUFFIXES:
            lab = rel.split("/")[1]
            parsed = _yaml(data)
            same = next((name for name, solution in solutions.items()
                         if name.startswith(f"{SOLUTIONS}/{lab}/reference/") and name.endswith(STARTER_SUFFIXES)
                         and parsed is not None and _yaml(solution) == parsed), None)
        if same is not None:
            found.append(f"{rel} equals the solution {same}")
    return found


def _without_todo(dest: Path, starters: dict[str, list[str]]) -> list[str]:
    """A lab whose starter files hold no TODO leaves the student nothing to do: a solved copy, most likely."""
    return [f"the starter of lab {lab} ({', '.join(files)}) holds no {TODO}: it looks solved; a starter marks "
            f"each part the student writes with a {TODO}" for lab, files in starters.items()
            if files and not any(TODO.encode() in (dest / "labs" / lab / name).read_bytes() for name in files)]


def _yaml(data: bytes) -> list[Any] | None:
    try:
        documents = [doc for doc in yaml.load_all(data, Loader=SAFE_LOADER) if doc is not None]
    except yaml.YAMLError:
        return None
    return documents or None


def _committed_under(repo: Path, folder: str) -> dict[str, bytes]:
    """Every file under folder as committed (one `git archive`, not a git call per file)."""
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", "HEAD", "--", folder],
                             capture_output=True, timeout=GIT_TIMEOUT)
    if archive.returncode != 0:  # nothing committed there: no solutions to compare with
        return {}
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        return {member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
                for member in tar.getmembers() if member.isfile()}


def _extract(repo: Path, paths: list[str], dest: Path) -> None:
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", "HEAD", "--", *paths],
                             capture_output=True, timeout=GIT_TIMEOUT)
    if archive.returncode != 0:
        raise ExportError(f"git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")


def _show(repo: Path, path: str) -> bytes:
    shown = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, timeout=GIT_TIMEOUT)
    if shown.returncode != 0:
        raise ExportError(f"{path} is not committed in {repo}: commit it, then export again")
    return shown.stdout


def _git(repo: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise ExportError("git is not installed: the export ships what is committed and needs git to read it") from None
    if result.returncode != 0:
        raise ExportError(f"{repo} is not a git checkout with a commit (`git {' '.join(args[:2])}`: "
                          f"{result.stderr.strip()}): the export ships what is committed")
    return result.stdout


def _remove(dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Export a student-facing copy for a Classroom template.")
    parser.add_argument("dest", type=Path, help="a new folder to write the copy into")
    dest = parser.parse_args().dest
    try:
        done = export(dest)
    except ExportError as error:
        sys.exit(f"export: {error}")
    labs = "; ".join(f"lab {lab}: {', '.join(files) or 'no starter files'}" for lab, files in done.starters.items())
    print(f"exported commit {done.commit[:12]} ({len(done.files)} files) to {dest}")
    print(f"starters: {labs}")
    if done.left_out:
        print(f"not exported (not committed): {', '.join(done.left_out)}")
    print("next: `git init` there and push it as the template repository")


if __name__ == "__main__":
    main()
