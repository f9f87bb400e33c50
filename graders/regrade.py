"""The instructor's re-grade of a class: each student's YAML, graded by the instructor's own graders.

    python -m graders.regrade ROOT --lab 1.1 [--backend kind|context|podman] [--context NAME]
                              [--kind-cluster NAME] [--jobs N] [--template DIR] --out OUT

ROOT holds one folder per student repository, as `gh classroom clone student-repos` lays them out.
For each student, only `labs/<lab>/*.yaml` and `*.yml` (regular files inside the repository) are copied
into a fresh folder, which a separate `pytest` run of the instructor's lab folder grades with
`--submission`: nothing of the student's repository is imported or run, so edited graders, workflows or
a forging conftest.py change nothing. Such edits are reported in the `flags` column (a tripwire).

OUT/gradebook.csv has a row per student (status graded, error or no-submission), OUT/grades.json the
full reports, OUT/feedback/<student>.md what the student would read. A run that hits an infrastructure
problem is retried once, then its row says `error` with no score (never 0). Exit status: 0 when every
student was graded (or had nothing to grade), 1 when any row is `error`.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.backends import NAMES as BACKEND_NAMES
from graders.export import ExportError, export
from graders.lab import Lab
from graders.rubric import discover_labs

REPO = Path(__file__).resolve().parents[1]
MAX_COPY_BYTES = 1024 * 1024  # the grader refuses files over 256 KiB; a larger copy only costs time
RUN_TIMEOUT = 900  # seconds for one grading run, far above a slow one (kind pulls, then ~1 min of checks)
STOP_TIMEOUT = 120  # seconds for a run stopped at RUN_TIMEOUT to remove its Pods before it is killed
# What a student has no reason to change: a difference is worth a look (the tripwire), never a grade.
PROTECTED = (".github/*", "graders/*", "*.py", "pytest.ini", "requirements*.txt", "pyproject.toml")
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".pytest-kind", ".grades"}
COLUMNS_BEFORE, COLUMNS_AFTER = ["student", "score", "max_score"], ["status", "commit", "flags"]


@dataclass
class Row:
    student: str
    status: str = "error"  # graded | error | no-submission
    commit: str = ""
    flags: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None
    problem: str = ""  # why there is no grade (error, no-submission)
    attempts: int = 0
    seconds: float = 0.0

    @property
    def score(self) -> int | str:
        if self.status == "graded" and self.report:
            return self.report["score"]
        return 0 if self.status == "no-submission" else ""


# -- one student ------------------------------------------------------------------------------------
def copy_submission(repo: Path, lab: Lab, dest: Path) -> list[str] | None:
    """Copy the lab's YAML files of a student repository into dest; None when it has no lab folder.
    Returns flags for files left out (links, files outside the repository)."""
    folder = repo / "labs" / lab.id
    if not folder.is_dir():
        return None
    root = repo.resolve()
    if not folder.resolve().is_relative_to(root):
        return [f"labs/{lab.id} points outside the repository (not graded)"]
    left_out = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml"):
            continue
        if path.is_symlink() or not path.is_file():
            left_out.append(f"labs/{lab.id}/{path.name} is not a regular file (not graded)")
            continue
        with path.open("rb") as source:
            (dest / path.name).write_bytes(source.read(MAX_COPY_BYTES))
    return left_out


def grade_once(submission: Path, lab: Lab, backend_args: list[str],
               env: dict[str, str] | None = None) -> tuple[dict[str, Any] | None, str]:
    """(report, problem): grade a folder with the instructor's lab in a subprocess."""
    report = submission.parent / "report.json"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", str(REPO / "labs" / lab.id), "-c", str(REPO / "pytest.ini"),
               "--rootdir", str(REPO), "-q", "-p", "no:cacheprovider", *backend_args,
               "--submission", str(submission), "--grade-report", str(report)]
    # cwd: the instructor's repository, where kind keeps its state (.pytest-kind) and graders imports from
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL, env=env)
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.terminate()  # SIGTERM: the graders unwind and remove the run's Pods, as on Ctrl-C
        try:
            process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        return None, f"the grading run took more than {RUN_TIMEOUT} s"
    if not report.exists():
        output = (stderr.strip() or stdout.strip()).splitlines()
        return None, f"pytest exited with status {process.returncode} without a report: {' | '.join(output[-3:])}"
    grade = json.loads(report.read_text())
    errors = [c for c in grade["checks"] if c["status"] == "error"]
    if errors:
        return grade, f"{len(errors)} check(s) hit an infrastructure problem: {errors[0]['message'].splitlines()[0]}"
    return grade, ""


def grade_student(repo: Path, lab: Lab, backend_args: list[str], reference: dict[str, str],
                  env: dict[str, str] | None = None) -> Row:
    start = time.monotonic()
    row = Row(student=repo.name, commit=head_commit(repo), flags=tripwire(repo, reference))
    work = Path(tempfile.mkdtemp(prefix="k8s101-regrade-"))
    try:
        submission = work / "submission"
        submission.mkdir()
        left_out = copy_submission(repo, lab, submission)
        if left_out is None:
            row.status, row.problem = "no-submission", f"no labs/{lab.id} folder in the repository"
            return row
        row.flags += left_out
        for row.attempts in (1, 2):  # an infrastructure problem gets one more try
            row.report, row.problem = grade_once(submission, lab, backend_args, env)
            if not row.problem:
                row.status = "graded"
                break
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)
        row.seconds = time.monotonic() - start


def head_commit(repo: Path) -> str:
    """HEAD of a clone, read from .git without running git (a bare folder has none)."""
    git = repo / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return ""


# -- the tripwire -----------------------------------------------------------------------------------
def reference_files(template: Path | None = None) -> dict[str, str]:
    """Digest of every protected file of the template repository, or of the student copy that
    `python -m graders.export` makes today."""
    if template is not None:
        return {rel: _digest(path) for rel, path in _protected(template)}
    with tempfile.TemporaryDirectory(prefix="k8s101-regrade-export-") as work:
        dest = Path(work) / "export"
        try:
            export(dest)
        except ExportError as error:
            sys.exit(f"regrade: cannot build the instructor's copy to compare against: {error}")
        return {rel: _digest(path) for rel, path in _protected(dest)}


def tripwire(repo: Path, reference: dict[str, str]) -> list[str]:
    """Which grader files of a student repository differ from the instructor's copy."""
    found = dict(_protected(repo))
    flags = [f"changed {rel}" for rel in sorted(reference) if rel in found and _digest(found[rel]) != reference[rel]]
    flags += [f"missing {rel}" for rel in sorted(reference) if rel not in found]
    flags += [f"added {rel}" for rel in sorted(found) if rel not in reference]
    return flags


def _protected(root: Path) -> list[tuple[str, Path]]:
    files = []
    for folder, dirs, names in os.walk(root):
        # not a student's work: git's data, caches, virtualenvs (any folder with a pyvenv.cfg), build info
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                   and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))]
        for name in names:
            rel = Path(folder, name).relative_to(root).as_posix()
            if any(fnmatch.fnmatch(rel, pattern) for pattern in PROTECTED):
                files.append((rel, Path(folder, name)))
    return files


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # a dangling link or an unreadable file differs from any file
        return ""


# -- output -----------------------------------------------------------------------------------------
def write_outputs(out: Path, lab: Lab, rows: list[Row]) -> None:
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    with (out / "gradebook.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS_BEFORE + [c.id for c in lab.checks] + COLUMNS_AFTER)
        for row in rows:
            points = ({c["id"]: c["points"] for c in row.report["checks"]}
                      if row.status == "graded" and row.report else {})
            writer.writerow([row.student, row.score, sum(c.points for c in lab.checks)]
                            + [points.get(c.id, "") for c in lab.checks]
                            + [row.status, row.commit, "; ".join(row.flags)])
    grades = {"lab": lab.id, "title": lab.title, "students": [
        {"student": r.student, "status": r.status, "score": r.score, "commit": r.commit, "flags": r.flags,
         "problem": r.problem, "attempts": r.attempts, "report": r.report} for r in rows]}
    (out / "grades.json").write_text(json.dumps(grades, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        (out / "feedback" / f"{_file_name(row.student)}.md").write_text(feedback(lab, row), encoding="utf-8")


def feedback(lab: Lab, row: Row) -> str:
    commit = f" (commit {row.commit[:12]})" if row.commit else ""
    if row.status == "no-submission":
        return (f"# Lab {lab.id} {lab.title}: not submitted\n\nYour repository{commit} has no `labs/{lab.id}` "
                f"folder, so there was nothing to grade.\n")
    if row.status == "error":
        return (f"# Lab {lab.id} {lab.title}: not graded yet\n\nYour YAML{commit} could not be graded because of "
                f"an infrastructure problem on the grading machine (no points lost): {row.problem}.\n"
                f"It will be graded again.\n")
    assert row.report is not None
    lines = [f"# Lab {lab.id} {lab.title}: {row.report['score']}/{row.report['max_score']}", "",
             f"Graded from your YAML files in `labs/{lab.id}`{commit}.", ""]
    for check in row.report["checks"]:
        mark = "passed" if check["passed"] else "failed"
        lines.append(f"## {'✅' if check['passed'] else '❌'} `{check['id']}` {check['points']}/{check['max_points']}"
                     f" {mark}: {check['title']}")
        if not check["passed"] and check["message"]:
            lines += ["", "```text", check["message"].strip().replace("```", "'''"), "```"]
        lines.append("")
    return "\n".join(lines)


def _file_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "_"


# -- the class --------------------------------------------------------------------------------------
def find_lab(lab_id: str) -> Lab:
    labs = {lab.id: lab for _, lab in discover_labs(REPO)}
    if lab_id not in labs:
        sys.exit(f"regrade: no lab {lab_id!r} in {REPO / 'labs'} (labs: {', '.join(labs) or 'none'})")
    return labs[lab_id]


def backend_args(args: argparse.Namespace) -> tuple[list[str], dict[str, str] | None]:
    """The runs' backend options and environment. kind is created (or reused) once here; the runs then
    reach it as a context through its kubeconfig: parallel `kind export kubeconfig` calls would race
    for kind's lock on that file."""
    if args.backend == "kind":
        name = args.kind_cluster or "k8s-101"
        print(f"regrade: creating or reusing the kind cluster {name} ...", flush=True)
        result = subprocess.run([sys.executable, "-m", "graders.backends.kind", name], cwd=REPO, text=True,
                                capture_output=True, stdin=subprocess.DEVNULL)
        print(f"regrade: {(result.stdout or result.stderr).strip()}", flush=True)
        kubeconfig = REPO / ".pytest-kind" / name / "kubeconfig"  # where graders.backends.kind exports it
        return ["--backend", "context", "--context", f"kind-{name}"], {**os.environ, "KUBECONFIG": str(kubeconfig)}
    extra = ["--backend", args.backend]
    if args.context:
        extra += ["--context", args.context]
    return extra, None


def regrade(root: Path, lab: Lab, extra: list[str], jobs: int, out: Path,
            env: dict[str, str] | None = None, template: Path | None = None) -> list[Row]:
    students = sorted(p for p in root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and p.resolve() != out)  # OUT may sit in ROOT
    reference = reference_files(template)
    rows, lock, start = [], threading.Lock(), time.monotonic()
    print(f"regrade: lab {lab.id} for {len(students)} students, {jobs} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_student, repo, lab, extra, reference, env) for repo in students]
        for future in as_completed(futures):
            row = future.result()
            with lock:
                rows.append(row)
                score = f"{row.score}/{sum(c.points for c in lab.checks)}" if row.status != "error" else "-"
                note = f"  {row.problem}" if row.problem else ""
                flags = f"  flags: {len(row.flags)}" if row.flags else ""
                print(f"[{len(rows)}/{len(students)}] {row.student}: {score} {row.status} "
                      f"({row.seconds:.1f} s){flags}{note}", flush=True)
    rows.sort(key=lambda r: r.student)
    write_outputs(out, lab, rows)
    counts = {status: sum(r.status == status for r in rows) for status in ("graded", "error", "no-submission")}
    print(f"regrade: {counts['graded']} graded, {counts['error']} error, {counts['no-submission']} no-submission, "
          f"{sum(bool(r.flags) for r in rows)} flagged, in {time.monotonic() - start:.1f} s; "
          f"wrote {out / 'gradebook.csv'}, {out / 'grades.json'}, {out / 'feedback'}/", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders.regrade", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a folder with one folder per student repository")
    parser.add_argument("--lab", required=True, help="the lab to grade, e.g. 1.1")
    parser.add_argument("--backend", choices=BACKEND_NAMES, default="kind", help="where the Pods run (default: kind)")
    parser.add_argument("--context", help="kubeconfig context for --backend context")
    parser.add_argument("--kind-cluster", help="kind cluster to create or reuse (default: k8s-101)")
    parser.add_argument("--jobs", type=int, default=1, help="students graded at once (default: 1)")
    parser.add_argument("--out", type=Path, required=True, help="folder for gradebook.csv, grades.json, feedback/")
    parser.add_argument("--template", type=Path, help="a checkout of the assignment's template repository, for the "
                        "flags (default: what `python -m graders.export` makes today)")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root}: no such folder")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.backend == "context" and not args.context:
        parser.error("--backend context needs --context NAME")
    lab = find_lab(args.lab)
    extra, env = backend_args(args)
    if args.template and not args.template.is_dir():
        parser.error(f"--template {args.template}: no such folder")
    rows = regrade(args.root.resolve(), lab, extra, args.jobs, args.out.resolve(), env,
                   args.template.resolve() if args.template else None)
    return 1 if any(row.status == "error" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
