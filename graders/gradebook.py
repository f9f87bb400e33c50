"""A re-graded class on disk: each student's row, and what the re-grade writes from the rows.

    OUT/gradebook.csv     a row per student: the total, per lab its score, status and each check's points
    OUT/grades.json       the same with every run's full report (graders/class_summary.py reads it)
    OUT/feedback/S.md     what student S would read in their terminal, per lab
    OUT/summary.html      the class at a glance (graders/summary_page.py)

The student column is named as GitHub Classroom names it in its grades CSV (`student_repository_name`):
`gh classroom clone student-repos` names each folder after the student's repository, so the two files
join on it. A lab's status is graded, not-started (its files are the starter's), no-submission (no
folder of the lab) or error (an infrastructure problem twice: no score, never 0); a total exists only
when no lab is in error.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.class_summary import summarize
from graders.summary_page import html_page
from graders.lab import Lab
from graders.report import CheckResult, FailureBlocks, summary_lines

STATUSES = ("graded", "not-started", "no-submission", "error")
STUDENT_COLUMN = "student_repository_name"  # GitHub Classroom's name for it, in its grades CSV


@dataclass
class LabGrade:
    lab: str
    status: str = "error"  # graded | not-started | no-submission | error
    report: dict[str, Any] | None = None
    problem: str = ""  # why there is no grade (error, no-submission, not-started)
    attempts: int = 0
    seconds: float = 0.0

    @property
    def score(self) -> int | None:
        if self.status == "graded" and self.report:
            return int(self.report["score"])
        return None if self.status == "error" else 0


@dataclass
class Row:
    student: str
    commit: str = ""
    baseline: str = ""  # what the flags and "not started" compare with
    flags: list[str] = field(default_factory=list)
    labs: dict[str, LabGrade] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int | None:
        scores = [grade.score for grade in self.labs.values()]
        return None if any(score is None for score in scores) else sum(s for s in scores if s is not None)


def columns(labs: list[Lab]) -> list[str]:
    per_lab = [name for lab in labs for name in (lab.id, f"{lab.id} status", *(f"{lab.id}:{c.id}" for c in lab.checks))]
    return [STUDENT_COLUMN, "total", "max_total", *per_lab, "commit", "flags"]


def write_outputs(out: Path, labs: list[Lab], rows: list[Row], backend: str) -> dict[str, Any]:
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    max_total = sum(max_score(lab) for lab in labs)
    with (out / "gradebook.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns(labs))
        for row in rows:
            cells: list[Any] = [row.student, _cell(row.total), max_total]
            for lab in labs:
                grade = row.labs[lab.id]
                points = {c["id"]: c["points"] for c in grade.report["checks"]} \
                    if grade.status == "graded" and grade.report else {}
                cells += [_cell(grade.score), grade.status, *(points.get(c.id, "") for c in lab.checks)]
            writer.writerow(cells + [row.commit, "; ".join(row.flags)])
    grades = {
        "labs": [{"id": lab.id, "title": lab.title, "max_score": max_score(lab),
                  "checks": [{"id": c.id, "title": c.title, "points": c.points} for c in lab.checks]} for lab in labs],
        "backend": backend,
        "students": [{"student": r.student, "total": r.total, "max_total": max_total, "commit": r.commit,
                      "baseline": r.baseline, "flags": r.flags, "feedback": f"feedback/{feedback_name(r.student)}",
                      "labs": {lab_id: {"status": g.status, "score": g.score, "problem": g.problem,
                                        "attempts": g.attempts, "seconds": round(g.seconds, 1), "report": g.report}
                               for lab_id, g in r.labs.items()}} for r in rows]}
    (out / "grades.json").write_text(json.dumps(grades, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        (out / "feedback" / feedback_name(row.student)).write_text(feedback(labs, row, backend), encoding="utf-8")
    title = f"Class summary: lab{'s' if len(labs) > 1 else ''} {', '.join(lab.id for lab in labs)}"
    (out / "summary.html").write_text(html_page(summarize(grades), title), encoding="utf-8")
    return grades


def max_score(lab: Lab) -> int:
    return sum(check.points for check in lab.checks)


def _cell(value: int | None) -> int | str:
    return "" if value is None else value


def feedback(labs: list[Lab], row: Row, backend: str) -> str:
    """What the student would read: per lab, the terminal's own text of `pytest labs/<lab>` (the failures
    as the plugin shows them, then the grade), made by the same code (graders/report.py)."""
    commit = f" (commit {row.commit[:12]})" if row.commit else ""
    sections = [_lab_feedback(lab, row.labs[lab.id], commit, backend) for lab in labs]
    if len(labs) > 1:
        total = f"{row.total}/{sum(max_score(lab) for lab in labs)}" if row.total is not None else "not complete yet"
        sections.append(f"**Total: {total}**\n")
    return "\n".join(sections)


def _lab_feedback(lab: Lab, grade: LabGrade, commit: str, backend: str) -> str:
    heading = f"# Lab {lab.id} {lab.title}"
    if grade.status == "no-submission":
        return (f"{heading}: not submitted\n\nYour repository{commit} has no `labs/{lab.id}` folder, so there was "
                f"nothing to grade.\n")
    if grade.status == "not-started":
        return (f"{heading}: not started\n\nYour files in `labs/{lab.id}`{commit} are still the starter files, "
                f"unchanged, so there was nothing to grade yet (0 points). Read `{lab.readme}`, fill in each TODO, "
                f"and run `pytest labs/{lab.id}` to see your grade.\n")
    if grade.status == "error" or grade.report is None:
        # the problem is the grading machine's (the instructor has it in grades.json and the summary): nothing
        # the student can act on, and its text names the machine's internals
        return (f"{heading}: not graded yet\n\nYour YAML{commit} could not be graded because of an infrastructure "
                f"problem on the grading machine (no points lost). It will be graded again.\n")
    text = terminal_text(lab, grade.report, backend)
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return (f"{heading}: {grade.report['score']}/{grade.report['max_score']}\n\n"
            f"Graded from your YAML files in `labs/{lab.id}`{commit}. This is what `pytest labs/{lab.id}` shows:\n\n"
            f"{fence}text\n{text}\n{fence}\n")


def terminal_text(lab: Lab, report: dict[str, Any], backend: str) -> str:
    """The failures and the grade of one run, as the plugin prints them at the end of `pytest labs/<lab>`."""
    checks = {check.id: check for check in lab.checks}
    results = [CheckResult(checks[c["id"]], c["status"], c["message"], c.get("headline", ""))
               for c in report["checks"] if c["id"] in checks]
    blocks = FailureBlocks()
    failures = [blocks.block(lab, r.check, r.status, r.message) for r in results if r.status != "passed"]
    return "\n\n".join(failures + [f"== grade: lab {lab.id} {lab.title} ==\n"
                                   + "\n".join(summary_lines(lab, results, backend))])


def feedback_name(student: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "_") + ".md"
