"""Per-check results, the end-of-run summary and the JSON grade report."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders import quoting
from graders.lab import Check, Lab

STATUS_WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}
SUMMARY_NOTE = 500  # characters of a check's note in the summary (its message, quoted in full, is above it)
SEE_ABOVE = "not graded (see above)"
SAME_CAUSE = "the same as [{first}] above"

# urllib3's exception text, as the Kubernetes client passes it on: "HTTPSConnectionPool(host='127.0.0.1',
# port=9): Max retries exceeded with url: /version/ (Caused by NewConnectionError(... [Errno 111]
# Connection refused'))". A student needs the address and the reason, not the pool.
_POOL = re.compile(r"HTTPS?ConnectionPool\(host='(?P<host>[^']*)', port=(?P<port>\d+)\):.*", re.DOTALL)
_ERRNO = re.compile(r"\[Errno -?\d+\] (?P<reason>[^'\")]+)")
_CAUSES = {"SSLError": "the TLS handshake failed (wrong server address or certificate?)",
           "ConnectTimeoutError": "the connection timed out", "ReadTimeoutError": "it did not answer in time",
           "ProxyError": "the proxy refused the connection (unset HTTPS_PROXY for this address?)",
           "NameResolutionError": "the host name is not known", "ProtocolError": "the connection was dropped"}


_STACK_START = re.compile(r"^(goroutine \d+ \[|Traceback \(most recent call last\):)", re.MULTILINE)
_SIGNAL_LINE = re.compile(r"^\[signal [^\n]*\n?", re.MULTILINE)
TRACE_LEFT_OUT = "(a program's internal stack trace was left out here)"


def without_stack_traces(text: str) -> str:
    """Text a tool printed (podman is written in Go) without its stack trace: the first lines say what
    failed (`panic: ...`); the goroutines and frames that follow mean nothing to a student."""
    match = _STACK_START.search(text)
    if match is None:
        return text
    head = _SIGNAL_LINE.sub("", text[:match.start()]).rstrip()
    return f"{head}\n{TRACE_LEFT_OUT}" if head else TRACE_LEFT_OUT


def plain(text: str) -> str:
    """An infrastructure problem without a network library's internals: 'host:port: Connection refused'."""
    def shorten(match: re.Match[str]) -> str:
        detail = match.group(0)
        errno = _ERRNO.search(detail)
        cause = next((words for name, words in _CAUSES.items() if name in detail), None)
        reason = errno.group("reason").strip() if errno else cause or "no answer"
        return f"{match.group('host')}:{match.group('port')}: {reason}"

    return _POOL.sub(shorten, text)


@dataclass
class CheckResult:
    check: Check
    status: str  # passed | failed | error (an infrastructure problem: not graded)
    message: str = ""
    headline: str = ""  # one line for the summary

    @property
    def points(self) -> int:
        return self.check.points if self.status == "passed" else 0

    def as_json(self) -> dict[str, Any]:
        return {"id": self.check.id, "title": self.check.title, "points": self.points,
                "max_points": self.check.points, "passed": self.status == "passed",
                "status": self.status, "message": self.message, "headline": self.headline}


@dataclass
class Results:
    labs: dict[Lab, list[CheckResult]] = field(default_factory=dict)

    def record(self, lab: Lab, result: CheckResult) -> None:
        checks = self.labs.setdefault(lab, [])
        checks[:] = [r for r in checks if r.check.id != result.check.id] + [result]

    def mark_error(self, lab: Lab, check: Check, message: str) -> None:
        """A failure after the check (its teardown) makes a passed check an error, never a pass."""
        for result in self.labs.get(lab, []):
            if result.check.id == check.id and result.status == "passed":
                result.status, result.message = "error", message


def lab_json(lab: Lab, checks: list[CheckResult]) -> dict[str, Any]:
    ordered = _in_rubric_order(lab, checks)
    return {"lab": lab.id, "score": sum(r.points for r in ordered),
            "max_score": sum(r.check.points for r in ordered),
            "checks": [r.as_json() for r in ordered]}


def write_report(path: Path, results: Results) -> None:
    labs = [lab_json(lab, checks) for lab, checks in results.labs.items()]
    document = labs[0] if len(labs) == 1 else {
        "labs": labs, "score": sum(lab["score"] for lab in labs), "max_score": sum(lab["max_score"] for lab in labs)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


class FailureBlocks:
    """What a student reads for each check that did not pass, in the terminal (the plugin) and in the
    feedback file of a re-grade (graders/regrade.py): one code for both, so wording fixed here is fixed
    in both. A cause shown in full once is not repeated: the later checks it stopped point to it."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}  # text shown in full -> the check that showed it

    def block(self, lab: Lab, check: Check, status: str, text: str) -> str:
        """text: the check's verdict as str(CheckFailed) or str(InfraError) gives it (the report's message)."""
        lines = [f"[{check.id}] {check.title}"]
        first = self.first.setdefault(text, check.id)
        if status == "error":
            lines.append(text if first == check.id else f"Infrastructure problem (no points lost): {SEE_ABOVE}")
        else:
            lines.append(text if first == check.id else f"Observed: {SAME_CAUSE.format(first=first)}")
            if check.section:
                lines.append(f"Read:     {lab.readme}#{check.section}")
        return "\n".join(lines)


def summary_lines(lab: Lab, checks: list[CheckResult], backend: str, not_run: int = 0) -> list[str]:
    """The grade's lines; not_run: checks an interrupt (Ctrl-C) left out, which leave the run without a score."""
    ordered = _in_rubric_order(lab, checks)
    width = max(len(r.check.id) for r in ordered)
    lines = []
    said: set[str] = set()  # one infrastructure problem is said once; the other checks it stopped point to it
    causes: dict[str, str] = {}  # a failure's summary line -> the first check that showed it
    for result in ordered:
        earned = f"{result.points:>3}" if result.status != "error" else "  -"
        points = f"{earned}/{result.check.points:<3}"
        lines.append(f"  {STATUS_WORD[result.status]:<5}  {result.check.id:<{width}}  {points}  {result.check.title}")
        note = quoting.shorten(result.headline or result.message, SUMMARY_NOTE)
        if result.status == "error":
            if note in said:
                note = SEE_ABOVE
            else:
                said.add(note)
        elif result.status == "failed" and note:  # one cause, said in the first check it stopped
            first = causes.setdefault(note, result.check.id)
            if first != result.check.id:
                note = SAME_CAUSE.format(first=first)
        if note:
            lines.append(f"  {'':<5}  {'':<{width}}  {'':7}  -> {note}")
    score = sum(r.points for r in ordered)
    total = sum(r.check.points for r in ordered)
    errors = sum(1 for r in ordered if r.status == "error")
    if not_run:
        lines.append(f"interrupted: {not_run} check{'s' if not_run != 1 else ''} not run, so no score "
                     f"({score} of the {total} points of the checks above; run again for the grade out of "
                     f"{score_of(lab)})")
        return lines
    lines.append(f"Score: {score}/{total} (backend {backend})"
                 + (f"; {errors} check(s) could not be graded because of an infrastructure problem: "
                    f"fix it and run again" if errors else ""))
    return lines


def _in_rubric_order(lab: Lab, checks: list[CheckResult]) -> list[CheckResult]:
    order = {check.id: index for index, check in enumerate(lab.checks)}
    return sorted(checks, key=lambda r: order.get(r.check.id, len(order)))


def score_of(lab: Lab) -> int:
    """The lab's full score: every check's points."""
    return sum(check.points for check in lab.checks)
