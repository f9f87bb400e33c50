"""The instructor's re-grade of a class: each student's YAML, graded by the instructor's own graders.

    python -m graders.regrade ROOT --lab 1.1 [--lab 1.2 | --lab all] [--backend kind|context|podman]
                              [--context NAME] [--kind-cluster NAME] [--jobs N] [--template DIR] --out OUT

ROOT holds one folder per student repository, as `gh classroom clone student-repos` lays them out. For
each student and lab, only `labs/<lab>/*.yaml` and `*.yml` (regular files inside the repository) are
copied into a fresh folder, which a separate `pytest` run of the instructor's lab folder grades with
`--submission`: nothing of the student's repository is imported or run, so edited graders, workflows or a
forging conftest.py change nothing. Such edits are reported in the `flags` column (a tripwire, see
graders/tripwire.py). A lab whose files are still the starter's is `not-started` and is not run.

Before the first grading run the backend is made ready (kind: the cluster is created or reused) and
checked (graders/backend_check.py): a backend that cannot run stops the re-grade at once with its cause,
and so does one whose first runs all fail alike; nobody is graded on a broken backend and nothing is
written. (A class with nothing to run, every lab not started or missing, needs no backend.)

What it writes to OUT (gradebook.csv, grades.json, feedback/, summary.html) is graders/gradebook.py's; the
summary it prints at the end and the page are graders/class_summary.py's. A run that hits an
infrastructure problem is retried once, then its lab says `error` with no score (never 0).
Exit status: 0 when every student was graded (or had nothing to grade), 1 when any lab is `error` or the
backend is broken.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from graders.backends import KIND_CLUSTER, NAMES as BACKEND_NAMES
from graders.class_summary import generic, summarize, terminal_lines
from graders.export import ExportError, export
from graders.lab import Lab
from graders.gradebook import STATUSES, LabGrade, Row, max_score, write_outputs
from graders.progress import Progress
from graders.rubric import discover_labs
from graders.tripwire import Baseline, first_commit_baseline, flags, folder_baseline, lab_files

REPO = Path(__file__).resolve().parents[1]
MAX_COPY_BYTES = 1024 * 1024  # the grader refuses files over 256 KiB; a larger copy only costs time
RUN_TIMEOUT = 900  # seconds for one grading run, far above a slow one (kind pulls, then ~1 min of checks)
STOP_TIMEOUT = 120  # seconds for a run stopped at RUN_TIMEOUT to remove its Pods before it is killed
CHECK_TIMEOUT = 300  # seconds for the backend check (a context's credential plugin may be slow)
BROKEN_AFTER = 2  # runs in a row that fail alike before anyone is graded: the backend is broken
OUTSIDE = "points outside the repository (not graded)"


class BackendBroken(Exception):
    """The backend cannot grade anyone: the re-grade stops, with this cause, before or at its first runs."""


# -- one student ------------------------------------------------------------------------------------
def copy_submission(repo: Path, lab: Lab, dest: Path) -> list[str] | None:
    """Copy the lab's YAML files of a student repository into dest; None when it has no lab folder.
    Returns flags for files left out (links, files outside the repository)."""
    folder = repo / "labs" / lab.id
    if not folder.is_dir():
        return None
    if not folder.resolve().is_relative_to(repo.resolve()):
        return [f"labs/{lab.id} {OUTSIDE}"]
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
    grade = in_the_students_terms(json.loads(report.read_text()), submission, lab)
    errors = [c for c in grade["checks"] if c["status"] == "error"]
    if errors:
        return grade, f"{len(errors)} check(s) hit an infrastructure problem: {errors[0]['message'].splitlines()[0]}"
    return grade, ""


def in_the_students_terms(report: dict[str, Any], submission: Path, lab: Lab) -> dict[str, Any]:
    """The report with the copy's folder (the grading machine's temporary path) named as the student knows
    it, labs/<lab>: the messages go to their feedback, and the summary groups students by them."""
    folders = dict.fromkeys([str(submission.resolve()), str(submission)])  # as the plugin may name it, and as given
    for check in report.get("checks", []):
        for key in ("message", "headline"):
            for folder in folders:
                if isinstance(check.get(key), str):
                    check[key] = check[key].replace(folder, f"labs/{lab.id}")
    return report


@dataclass
class Work:
    """One student, ready to grade: their row, and per lab to be graded its copied submission."""

    row: Row
    folder: Path
    pending: dict[str, Path] = field(default_factory=dict)  # lab id -> submission folder


def prepare(repo: Path, labs: list[Lab], given: list[Baseline]) -> Work:
    """A student's row with what needs no grading run (flags, no-submission, not-started), and the copies
    of the labs to grade. given: what a repository without history is compared with, first the best."""
    work = Work(Row(student=repo.name), Path(tempfile.mkdtemp(prefix="k8s101-regrade-")))
    try:
        _prepare(repo, labs, given, work)
    except OSError as error:  # an unreadable repository: not the student's grade, and not a crash of the class
        problem = f"could not read the repository: {error.strerror or error}: {error.filename or repo}"
        work.row.labs = {lab.id: LabGrade(lab.id, "error", problem=problem) for lab in labs}
        work.pending.clear()
    return work


def _prepare(repo: Path, labs: list[Lab], given: list[Baseline], work: Work) -> None:
    baseline = first_commit_baseline(repo) or given[0]
    row = work.row
    row.commit, row.baseline, row.flags = head_commit(repo), baseline.where, flags(repo, baseline)
    for lab in labs:
        submission = work.folder / lab.id / "submission"
        submission.mkdir(parents=True)
        left_out = copy_submission(repo, lab, submission)
        outside = bool(left_out) and left_out is not None and left_out[0].endswith(OUTSIDE)
        if left_out is None or outside:
            row.flags += left_out or []
            row.labs[lab.id] = LabGrade(lab.id, "no-submission", problem=f"no labs/{lab.id} folder in the repository")
            continue
        row.flags += left_out
        # the starter the student was given: their first commit's, else the template's or today's export's
        starter = next((b.lab_files(lab.id) for b in [baseline, *given] if b.lab_files(lab.id)), {})
        if lab_files(submission) == starter:  # the copies: a file over MAX_COPY_BYTES is never read in full
            row.labs[lab.id] = LabGrade(lab.id, "not-started",
                                        problem=f"labs/{lab.id} holds the starter files, unchanged")
            continue
        work.pending[lab.id] = submission


def grade_lab(submission: Path, lab: Lab, backend_args: list[str], env: dict[str, str] | None) -> LabGrade:
    start = time.monotonic()
    grade = LabGrade(lab.id)
    for grade.attempts in (1, 2):  # an infrastructure problem gets one more try
        grade.report, grade.problem = grade_once(submission, lab, backend_args, env)
        if not grade.problem:
            grade.status = "graded"
            break
    grade.seconds = time.monotonic() - start
    return grade


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


def instructor_baselines(template: Path | None) -> list[Baseline]:
    """What a repository without history is compared with: the template checkout if given, then what
    `python -m graders.export` makes of the instructor's repository today (its starters: what is committed)."""
    given = [folder_baseline(template, f"template {template}")] if template is not None else []
    with tempfile.TemporaryDirectory(prefix="k8s101-regrade-export-") as work:
        dest = Path(work) / "export"
        try:
            export(dest)
        except ExportError as error:
            sys.exit(f"regrade: cannot build the instructor's copy to compare against: {error}")
        return given + [folder_baseline(dest, "the export of the instructor's repository")]


# -- the backend ------------------------------------------------------------------------------------
def backend_args(args: argparse.Namespace) -> tuple[list[str], dict[str, str] | None]:
    """The runs' backend options and environment. kind is created (or reused) once here; the runs then
    reach it as a context through its kubeconfig: parallel `kind export kubeconfig` calls would race
    for kind's lock on that file. A cluster that cannot be made gets one more try, then stops the re-grade."""
    if args.backend == "kind":
        name = args.kind_cluster or KIND_CLUSTER
        causes = []
        for _ in (1, 2):
            print(f"regrade: creating or reusing the kind cluster {name} ...", flush=True)
            result = make_kind_cluster(name)
            text = (result.stdout if result.returncode == 0 else result.stderr or result.stdout).strip()
            if result.returncode == 0:
                print(f"regrade: {text}", flush=True)
                break
            causes.append(text or f"exited with status {result.returncode}")
        else:
            raise BackendBroken(f"the kind cluster {name} could not be created or reused (tried twice): {causes[0]}"
                                + (f"\nthe second try: {causes[1]}" if causes[1] != causes[0] else ""))
        kubeconfig = REPO / ".pytest-kind" / name / "kubeconfig"  # where graders.backends.kind exports it
        return ["--backend", "context", "--context", f"kind-{name}"], {**os.environ, "KUBECONFIG": str(kubeconfig)}
    extra = ["--backend", args.backend]
    if args.context:
        extra += ["--context", args.context]
    return extra, None


def make_kind_cluster(name: str) -> subprocess.CompletedProcess[str]:
    """Create or reuse the kind cluster as a grading run would (graders/backends/kind.py), in a process of its own."""
    return subprocess.run([sys.executable, "-m", "graders.backends.kind", name], cwd=REPO, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL)


def check_backend(extra: list[str], env: dict[str, str] | None) -> None:
    """Stop before anyone is graded when the backend cannot make a sandbox (graders/backend_check.py)."""
    try:
        result = subprocess.run([sys.executable, "-m", "graders.backend_check", *extra], cwd=REPO, text=True,
                                capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=CHECK_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackendBroken(f"checking the backend took more than {CHECK_TIMEOUT} s") from None
    if result.returncode != 0:
        raise BackendBroken((result.stderr or result.stdout).strip() or f"exited with status {result.returncode}")


# -- the class --------------------------------------------------------------------------------------
def find_labs(lab_ids: list[str]) -> list[Lab]:
    labs = {lab.id: lab for _, lab in discover_labs(REPO)}
    if "all" in lab_ids:
        return list(labs.values())
    unknown = [lab_id for lab_id in lab_ids if lab_id not in labs]
    if unknown:
        sys.exit(f"regrade: no lab {', '.join(map(repr, unknown))} in {REPO / 'labs'} "
                 f"(labs: {', '.join(labs) or 'none'}, or all)")
    return [labs[lab_id] for lab_id in dict.fromkeys(lab_ids)]


def find_lab(lab_id: str) -> Lab:
    return find_labs([lab_id])[0]


def regrade(root: Path, labs: list[Lab], ready: Callable[[], tuple[list[str], dict[str, str] | None]], jobs: int,
            out: Path, template: Path | None = None, backend: str = "", stream: TextIO | None = None) -> list[Row]:
    """Grade every student of root for every lab, write OUT, print the summary. ready() makes the backend
    ready and returns the runs' backend options and environment; it is called only when some lab needs a
    run, before the first. Raises BackendBroken."""
    stream = stream or sys.stdout
    students = sorted(p for p in root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and p.resolve() != out)  # OUT may sit in ROOT
    given = instructor_baselines(template)
    start = time.monotonic()
    print(f"regrade: lab{'s' if len(labs) > 1 else ''} {', '.join(lab.id for lab in labs)} for {len(students)} "
          f"students, {jobs} at a time", file=stream, flush=True)
    by_id = {lab.id: lab for lab in labs}
    works: list[Work] = []
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            # what needs no run first (flags, not started): cheap, and a broken backend then costs nothing
            works = [future.result() for future in [pool.submit(prepare, repo, labs, given) for repo in students]]
            extra, env = ready() if any(work.pending for work in works) else ([], None)
            with Progress(len(students), stream) as progress:
                runs = {pool.submit(grade_lab, submission, by_id[lab_id], extra, env): work
                        for work in works for lab_id, submission in work.pending.items()}
                for work in works:
                    if not work.pending:
                        _finished(work, progress, start, labs)
                _collect(runs, progress, start, labs)
    finally:  # after the pool: no run uses a copy any more
        for work in works:
            shutil.rmtree(work.folder, ignore_errors=True)
    rows = sorted((work.row for work in works), key=lambda r: r.student)
    write_outputs(out, labs, rows, backend)
    grades = json.loads((out / "grades.json").read_text())
    for line in terminal_lines(summarize(grades)):
        print(line, file=stream)
    counts = {status: sum(g.status == status for r in rows for g in r.labs.values()) for status in STATUSES}
    print(f"regrade: {', '.join(f'{n} {status}' for status, n in counts.items())}, "
          f"{sum(bool(r.flags) for r in rows)} flagged, in {time.monotonic() - start:.1f} s; wrote "
          f"{out / 'gradebook.csv'}, {out / 'grades.json'}, {out / 'feedback'}/, {out / 'summary.html'}",
          file=stream, flush=True)
    return rows


def _collect(runs: dict[Future[LabGrade], Work], progress: Progress, start: float, labs: list[Lab]) -> None:
    """Record each run as it ends. While nobody is graded yet, runs that all fail alike (the same problem
    once what is particular to a run is taken out) mean a broken backend: stop, and cancel the rest."""
    graded, failed = 0, []
    for run in as_completed(runs):
        work, grade = runs[run], run.result()
        work.row.labs[grade.lab] = grade
        graded += grade.status == "graded"
        if grade.status == "error":
            failed.append(generic(grade.problem))
        if not graded and len(failed) >= BROKEN_AFTER and len(set(failed)) == 1:
            for other in runs:
                other.cancel()  # those not started yet; the running ones end on their own
            raise BackendBroken(f"the first {len(failed)} grading runs all failed alike, so this backend cannot "
                                f"grade anyone: {grade.problem}")
        if all(lab_id in work.row.labs for lab_id in work.pending):
            _finished(work, progress, start, labs)


def _finished(work: Work, progress: Progress, start: float, labs: list[Lab]) -> None:
    row = work.row
    row.seconds = time.monotonic() - start
    parts = []
    for lab in labs:
        grade = row.labs[lab.id]
        score = f"{grade.score}/{max_score(lab)} " if grade.score is not None and grade.status == "graded" else ""
        took = f" ({grade.seconds:.1f} s)" if grade.attempts else ""
        parts.append(f"{'lab ' + lab.id + ' ' if len(labs) > 1 else ''}{score}{grade.status}{took}"
                     + (f"  {grade.problem}" if grade.status == "error" else ""))
    flagged = f"  flags: {len(row.flags)}" if row.flags else ""
    progress.finished(f"{row.student}: {'; '.join(parts)}{flagged}",
                      problem=any(g.status == "error" for g in row.labs.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders.regrade", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a folder with one folder per student repository")
    parser.add_argument("--lab", action="append", required=True,
                        help="a lab to grade, e.g. 1.1; repeat it for several, or `all`")
    parser.add_argument("--backend", choices=BACKEND_NAMES, default="kind", help="where the Pods run (default: kind)")
    parser.add_argument("--context", help="kubeconfig context for --backend context")
    parser.add_argument("--kind-cluster", help=f"kind cluster to create or reuse (default: {KIND_CLUSTER})")
    parser.add_argument("--jobs", type=int, default=1, help="grading runs at once (default: 1)")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for gradebook.csv, grades.json, feedback/, summary.html")
    parser.add_argument("--template", type=Path, help="a checkout of the assignment's template repository: what a "
                        "student repository without its git history is compared with (default: what "
                        "`python -m graders.export` makes today)")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root}: no such folder")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.backend == "context" and not args.context:
        parser.error("--backend context needs --context NAME")
    if args.template and not args.template.is_dir():
        parser.error(f"--template {args.template}: no such folder")
    labs = find_labs(args.lab)
    def ready() -> tuple[list[str], dict[str, str] | None]:
        extra, env = backend_args(args)
        check_backend(extra, env)
        return extra, env

    try:
        rows = regrade(args.root.resolve(), labs, ready, args.jobs, args.out.resolve(),
                       args.template.resolve() if args.template else None, backend=args.backend)
    except BackendBroken as error:
        print(f"regrade: stopped, nobody was graded and nothing was written: backend {args.backend} cannot run.\n"
              f"{error}", file=sys.stderr, flush=True)
        return 1
    return 1 if any(g.status == "error" for row in rows for g in row.labs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
