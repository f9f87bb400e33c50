"""The instructor's view of a re-graded class: where it struggles, at a glance.

`summarize(grades)` reads the document the re-grade writes to OUT/grades.json and finds, per lab:
- each check's pass rate among the students graded (`12/30, 40%`) and the points lost in all;
- the distribution of scores;
- the most common reasons for failing, grouped by cause: the same Expected and Observed once what is
  particular to one student or one run is taken out (Pod IPs, the grader's request markers, run ids,
  container ids, times, durations, the grading machine's temporary paths, the values a student typed
  where the grader quotes them after "found"); one cause that stops several checks is one reason;
- the students to look at: `error` (not graded: an infrastructure problem), flagged (grader files
  changed), not started (their lab files are the starter's), no submission.
`terminal_lines()` prints it at the end of the re-grade; graders/summary_page.py's `html_page()` writes
it to OUT/summary.html.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

EXAMPLES = 3  # students named per reason in the terminal
TOP_REASONS = 8  # reasons shown in the terminal (the page shows every reason)
BAR = 24  # characters of a bar in the terminal
FIELDS = ("Expected", "Observed", "Hint")

# What differs between two students who made the same mistake, in the order they are replaced.
_PARTICULAR = [
    (re.compile(r"k8s101-marker-[0-9A-Za-z]+"), "k8s101-marker-…"),
    (re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:\.\d+)?\b"), "<time>"),
    (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])"), "<IP>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\b(?:sha256:)?[0-9a-f]{12,}\b"), "<id>"),
    (re.compile(r"\bk8s101-[0-9a-f]{8}\b"), "k8s101-<run>"),
    (re.compile(r"(?:/tmp|/var/tmp|/run|/sys/fs/cgroup|/var/lib/containers|/proc/\d+)(?:/[^\s'\",;:)]*)?"), "<path>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|seconds)\b"), "N s"),
    (re.compile(r"\bfound '[^'\n]*'"), "found '…'"),
]


@dataclass
class CheckStat:
    lab: str
    id: str
    title: str
    max_points: int
    passed: int = 0
    graded: int = 0
    points_lost: int = 0

    @property
    def rate(self) -> str:
        """`12/30, 40%`"""
        return f"{self.passed}/{self.graded}, {percent(self.passed, self.graded)}" if self.graded else "not graded"


@dataclass
class Reason:
    lab: str
    expected: str
    observed: str
    checks: list[str] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
    points_lost: int = 0


@dataclass
class LabSummary:
    id: str
    title: str
    max_score: int
    checks: list[CheckStat]
    scores: list[int] = field(default_factory=list)  # of the students graded
    counts: dict[str, int] = field(default_factory=dict)  # status -> students

    @property
    def histogram(self) -> list[tuple[str, int]]:
        return histogram(self.scores, self.max_score)


@dataclass
class Summary:
    students: int
    backend: str
    labs: list[LabSummary]
    reasons: list[Reason]
    totals: list[int]  # of the students with a total (no lab in error), when there are several labs
    max_total: int
    errors: list[tuple[str, str, str]]  # (student, lab, problem)
    flagged: list[tuple[str, list[str]]]
    not_started: list[tuple[str, list[str]]]  # (student, labs)
    no_submission: list[tuple[str, list[str]]]
    feedback: dict[str, str]  # student -> feedback file, relative to OUT
    scores: dict[str, dict[str, Any]]  # student -> lab -> score or status word


# -- reading grades.json ----------------------------------------------------------------------------
def summarize(grades: dict[str, Any]) -> Summary:
    labs = [LabSummary(lab["id"], lab["title"], lab["max_score"],
                       [CheckStat(lab["id"], c["id"], c["title"], c["points"]) for c in lab["checks"]],
                       counts=dict.fromkeys(("graded", "not-started", "no-submission", "error"), 0))
            for lab in grades["labs"]]
    by_lab = {lab.id: lab for lab in labs}
    reasons: dict[tuple[str, str, str], Reason] = {}
    summary = Summary(students=len(grades["students"]), backend=grades.get("backend", ""), labs=labs, reasons=[],
                      totals=[], max_total=sum(lab.max_score for lab in labs), errors=[], flagged=[], not_started=[],
                      no_submission=[], feedback={}, scores={})
    for student in grades["students"]:
        name = student["student"]
        summary.feedback[name] = student.get("feedback", "")
        summary.scores[name] = {}
        if student["flags"]:
            summary.flagged.append((name, student["flags"]))
        not_started, missing = [], []
        for lab_id, result in student["labs"].items():
            lab = by_lab[lab_id]
            lab.counts[result["status"]] = lab.counts.get(result["status"], 0) + 1
            summary.scores[name][lab_id] = result["score"] if result["status"] == "graded" else result["status"]
            if result["status"] == "error":
                summary.errors.append((name, lab_id, result["problem"]))
            elif result["status"] == "not-started":
                not_started.append(lab_id)
            elif result["status"] == "no-submission":
                missing.append(lab_id)
            elif result["status"] == "graded":
                lab.scores.append(result["score"])
                _count_checks(lab, name, result["report"], reasons)
        if not_started:
            summary.not_started.append((name, not_started))
        if missing:
            summary.no_submission.append((name, missing))
        if student.get("total") is not None and len(labs) > 1:
            summary.totals.append(student["total"])
    summary.reasons = sorted(reasons.values(), key=lambda r: (-len(r.students), -r.points_lost, r.lab, r.checks))
    return summary


def _count_checks(lab: LabSummary, student: str, report: dict[str, Any],
                  reasons: dict[tuple[str, str, str], Reason]) -> None:
    stats = {stat.id: stat for stat in lab.checks}
    for check in report["checks"]:
        stat = stats.get(check["id"])
        if stat is None or check["status"] == "error":
            continue
        stat.graded += 1
        stat.passed += check["passed"]
        lost = check["max_points"] - check["points"]
        stat.points_lost += lost
        if check["passed"]:
            continue
        expected, observed = cause(check["message"])
        reason = reasons.setdefault((lab.id, expected, observed), Reason(lab.id, expected, observed))
        if check["id"] not in reason.checks:
            reason.checks.append(check["id"])
        if student not in reason.students:
            reason.students.append(student)
        reason.points_lost += lost


def cause(message: str) -> tuple[str, str]:
    """(Expected, Observed) of a check's message, without what is particular to one student or run."""
    parts = fields(message)
    expected, observed = parts.get("Expected", ""), parts.get("Observed", "")
    if not expected and not observed:  # not a CheckFailed's text: its first line
        observed = message.strip().splitlines()[0] if message.strip() else ""
    return generic(expected), generic(observed)


def fields(message: str) -> dict[str, str]:
    """The Expected / Observed / Hint parts of a check's message (graders.errors.CheckFailed's layout):
    a part runs until the next part or the first line of its details (`Last log lines of ...:`)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in message.splitlines():
        name, _, rest = line.partition(":")
        if name in FIELDS and line.startswith(name + ":"):
            current = found.setdefault(name, [])
            current.append(rest.strip())
        elif current is not None and line.startswith(" ") and line.strip():
            current.append(line.strip())
        else:
            current = None  # details (logs, events) are not the cause
    return {name: "\n".join(lines) for name, lines in found.items()}


def generic(text: str) -> str:
    for pattern, replacement in _PARTICULAR:
        text = pattern.sub(replacement, text)
    return text


def histogram(scores: list[int], max_score: int) -> list[tuple[str, int]]:
    """Ten bins of a tenth of max_score each, then full marks on their own: [("0–9", 2), ..., ("100", 5)]."""
    if max_score <= 0:
        return []
    bins = [0] * 11
    for score in scores:
        bins[10 if score >= max_score else min(9, score * 10 // max_score)] += 1
    edges = [math.ceil(i * max_score / 10) for i in range(11)]
    labels = [f"{edges[i]}–{edges[i + 1] - 1}" for i in range(10)] + [str(max_score)]
    return list(zip(labels, bins, strict=True))


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


# -- the terminal ---------------------------------------------------------------------------------
def terminal_lines(summary: Summary) -> list[str]:
    lines = [f"== class summary: {summary.students} students, backend {summary.backend} =="]
    for lab in summary.labs:
        counts = ", ".join(f"{n} {status}" for status, n in lab.counts.items() if n)
        lines += ["", f"Lab {lab.id} {lab.title} ({counts or 'nobody'})", "  pass rate per check (of those graded):"]
        width = max([len(stat.id) for stat in lab.checks] + [5])
        for stat in lab.checks:
            share = stat.passed / stat.graded if stat.graded else 0.0
            lines.append(f"    {stat.id:<{width}}  {stat.rate:>14}  {_bar(share, 10)}  "
                         f"{stat.points_lost} point{'s' if stat.points_lost != 1 else ''} lost in all")
        lines += _histogram_lines(f"scores of lab {lab.id}", lab.histogram)
    if len(summary.labs) > 1:
        lines += _histogram_lines("totals", histogram(summary.totals, summary.max_total))
    lines += ["", "Most common reasons for failing:" if summary.reasons else "No check failed."]
    for reason in summary.reasons[:TOP_REASONS]:
        names = ", ".join(reason.students[:EXAMPLES]) + (", …" if len(reason.students) > EXAMPLES else "")
        lines.append(f"  {len(reason.students):>3} student{'s' if len(reason.students) != 1 else ' '}  "
                     f"lab {reason.lab} {', '.join(reason.checks)} (−{reason.points_lost} points in all)")
        lines += [f"         Observed: {line}" for line in _first(reason.observed)]
        lines += [f"         Expected: {line}" for line in _first(reason.expected)]
        lines.append(f"         e.g. {names}")
    if len(summary.reasons) > TOP_REASONS:
        lines.append(f"  … {len(summary.reasons) - TOP_REASONS} more in summary.html")
    lines += _attention_lines(summary)
    return lines


def _histogram_lines(title: str, bins: list[tuple[str, int]]) -> list[str]:
    """One line a bin; the empty bins below the lowest score are one line ("0–39  0")."""
    lowest = next((index for index, (_, count) in enumerate(bins) if count), len(bins) - 1)
    if lowest > 1:
        bins = [(f"{bins[0][0].split('–')[0]}–{bins[lowest - 1][0].split('–')[-1]}", 0)] + bins[lowest:]
    most = max([count for _, count in bins] + [1])
    width = max([len(label) for label, _ in bins] + [1])
    return [f"  {title}:"] + [f"    {label:>{width}}  {'█' * round(BAR * count / most):<{BAR}} {count}"
                              for label, count in bins]


def _attention_lines(summary: Summary) -> list[str]:
    lines = []
    if summary.errors:
        lines += ["", "Not graded (error: an infrastructure problem, no score; re-grade them later):"]
        for (lab, problem), students in errors_by_problem(summary).items():
            lines.append(f"  lab {lab}: {problem}")
            lines.append(f"      {', '.join(students)}")
    if summary.flagged:
        lines += ["", "Flagged (grader files changed since their first commit: worth a look, not a grade):"]
        lines += [f"  {student}: {'; '.join(flags)}" for student, flags in summary.flagged]
    if summary.not_started:
        lines += ["", "Not started (their lab files are the starter's; 0 points):"]
        lines.append("  " + ", ".join(_with_labs(s, labs, summary) for s, labs in summary.not_started))
    if summary.no_submission:
        lines += ["", "No submission (no folder of the lab; 0 points):"]
        lines.append("  " + ", ".join(_with_labs(s, labs, summary) for s, labs in summary.no_submission))
    return lines


def _with_labs(student: str, labs: list[str], summary: Summary) -> str:
    return student if len(summary.labs) == 1 else f"{student} ({', '.join(labs)})"


def _first(text: str, most: int = 2) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[:most] + (["…"] if len(lines) > most else [])


def _bar(share: float, width: int) -> str:
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled)


def errors_by_problem(summary: Summary) -> dict[tuple[str, str], list[str]]:
    """(lab, problem) -> the students it stopped; problems that differ only by a run's particulars are one."""
    grouped: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], tuple[str, str]] = {}
    for student, lab, problem in summary.errors:
        key = first.setdefault((lab, generic(problem)), (lab, problem))
        grouped.setdefault(key, []).append(student)
    return grouped
