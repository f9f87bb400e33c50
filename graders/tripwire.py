"""What a student was given, and what they changed since: the re-grade's flags and its "not started".

A student's repository begins as the assignment's template: GitHub Classroom makes its first commit from
it. So what a student changed is the difference between that first commit and their files today, and the
course repository may move on meanwhile (a new lab, a new workflow) without flagging anyone. A
repository without its history (no .git, a shallow clone) is compared with the template checkout given
with --template, else with what `python -m graders.export` makes of the instructor's repository today.

Files are compared by their git blob id (a symbolic link by its target, as git stores it), computed here
for the working tree: nothing of the student's repository runs, git only lists the first commit's tree.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

# What a student has no reason to change: a difference is worth a look (the tripwire), never a grade.
PROTECTED = (".github/*", "graders/*", "*.py", "pytest.ini", "requirements*.txt", "pyproject.toml",
             "labs/*/images.json")  # the images a rubric expects: a student who edits them edits the grade
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".pytest-kind", ".grades"}
LAB_FILES = (".yaml", ".yml")  # what a lab's student edits, and what the re-grade copies
GIT_TIMEOUT = 30
MAX_HASHED_BYTES = 16 * 1024 * 1024  # a student's file larger than this is not read to be compared
# git reads nothing of the repository's own configuration that could run a program for ls-tree or
# rev-list; the settings below also keep it from refusing a clone owned by another user.
GIT = ["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false"]


@dataclass(frozen=True)
class Baseline:
    """The files a student was given: path -> git blob id."""

    where: str  # "first commit 1a2b3c4d5e6f", "template DIR", "the export of the instructor's repository"
    files: dict[str, str]

    def lab_files(self, lab_id: str) -> dict[str, str]:
        prefix = f"labs/{lab_id}/"
        return {rel[len(prefix):]: blob for rel, blob in self.files.items()
                if rel.startswith(prefix) and "/" not in rel[len(prefix):] and rel.endswith(LAB_FILES)}


def folder_baseline(root: Path, where: str) -> Baseline:
    """Every file of a folder (a template checkout, an export)."""
    return Baseline(where, {rel: blob_id(path) for rel, path in _walk(root)})


def first_commit_baseline(repo: Path) -> Baseline | None:
    """The repository's first commit, or None without a usable history (no git, shallow, no commit)."""
    git_dir = repo / ".git"
    if not git_dir.exists() or (git_dir / "shallow").exists():  # a shallow clone's first commit is not the template
        return None
    roots = _git(repo, "rev-list", "--max-parents=0", "HEAD")
    if not roots:
        return None
    first = roots.split()[-1]  # newest first: the last root is the oldest
    listing = _git(repo, "ls-tree", "-r", "-z", first)
    if listing is None:
        return None
    files = {}
    for entry in filter(None, listing.split("\0")):
        meta, _, rel = entry.partition("\t")
        mode, kind, blob = meta.split()
        if kind == "blob":
            files[rel] = blob
    return Baseline(f"first commit {first[:12]}", files)


def flags(repo: Path, baseline: Baseline) -> list[str]:
    """The grader files of a student repository that differ from what the student was given."""
    found = {rel: blob_id(path) for rel, path in _walk(repo) if _protected(rel)}
    given = {rel: blob for rel, blob in baseline.files.items() if _protected(rel)}
    changed = [f"changed {rel}" for rel in sorted(given) if rel in found and found[rel] != given[rel]]
    removed = [f"removed {rel}" for rel in sorted(given) if rel not in found]
    added = [f"added {rel}" for rel in sorted(found) if rel not in given]
    return changed + removed + added


def lab_files(folder: Path) -> dict[str, str]:
    """The files of a student's lab folder that the re-grade grades (regular files only), by blob id."""
    return {path.name: blob_id(path) for path in sorted(folder.iterdir())
            if path.suffix in LAB_FILES and path.is_file() and not path.is_symlink()}


def blob_id(path: Path) -> str:
    """git's id of a file's content (`git hash-object`), of a link's target for a symbolic link."""
    try:
        if path.is_symlink():
            data = os.readlink(path).encode()
        else:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end: unread
                return "not a regular file"
            if info.st_size > MAX_HASHED_BYTES:  # no grader file is this large: it differs, unread
                return f"larger than {MAX_HASHED_BYTES} bytes"
            data = path.read_bytes()
    except OSError:  # an unreadable file differs from any file
        return ""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _protected(rel: str) -> bool:
    return any(fnmatch.fnmatch(rel, pattern) for pattern in PROTECTED)


def _walk(root: Path) -> list[tuple[str, Path]]:
    files = []
    for folder, dirs, names in os.walk(root):
        # not a student's work: git's data, caches, virtualenvs (any folder with a pyvenv.cfg), build info
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                   and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))]
        for name in names:
            files.append((Path(folder, name).relative_to(root).as_posix(), Path(folder, name)))
    return files


def _git(repo: Path, *args: str) -> str | None:
    try:
        result = subprocess.run([*GIT, "-C", str(repo), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
