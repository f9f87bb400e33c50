"""OUT/summary.html: a re-graded class at a glance (graders/class_summary.py `summarize` reads the numbers),
as one self-contained page (inline CSS, no script, nothing from the network) that reads on a projector and
prints on one or two pages."""

from __future__ import annotations

import html
from urllib.parse import quote

from graders.class_summary import LabSummary, Summary, errors_by_problem, histogram

PRINTED_REASONS = 6  # reasons the page prints: with the rest, one or two pages
CSS = """
:root { --pass: #1a7f37; --fail: #c62828; --track: #e3e6ea; --ink: #111; --muted: #555; }
* { box-sizing: border-box; }
body { font: 20px/1.4 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; padding: 24px 32px; max-width: 1280px; background: #fff; }
h1 { font-size: 34px; margin: 0 0 4px; }
h2 { font-size: 27px; margin: 28px 0 10px; border-bottom: 3px solid var(--ink); }
h3 { font-size: 23px; margin: 18px 0 8px; }
.muted { color: var(--muted); }
.counts span { display: inline-block; margin-right: 18px; font-weight: bold; }
table.rates { border-collapse: collapse; width: 100%; }
table.rates td { padding: 5px 8px; vertical-align: middle; }
table.rates th { text-align: left; font-size: 16px; color: var(--muted); font-weight: normal; padding: 0 8px; }
.key { display: inline-block; width: 14px; height: 14px; border-radius: 2px; vertical-align: -1px; }
.key.pass { background: var(--pass); } .key.fail { background: var(--fail); margin-left: 10px; }
table.rates td.check { font-family: "DejaVu Sans Mono", monospace; white-space: nowrap; width: 1%; }
td.barcell { width: 45%; }
.track { background: var(--fail); height: 26px; border-radius: 4px; overflow: hidden; }
.fill { background: var(--pass); height: 100%; }
.track.none { background: var(--track); }
td.rate, td.lost { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
.hist { display: flex; align-items: flex-end; gap: 6px; height: 190px; margin: 8px 0 4px; }
.hist .col { flex: 1; display: flex; flex-direction: column; justify-content: flex-end; align-items: center;
             height: 100%; }
.hist .bar { width: 100%; background: #1f5fa8; min-height: 2px; border-radius: 3px 3px 0 0; }
.hist .n { font-weight: bold; font-variant-numeric: tabular-nums; }
.hist-labels { display: flex; gap: 6px; font-size: 16px; color: var(--muted); }
.hist-labels span { flex: 1; text-align: center; }
.reason { border-left: 8px solid var(--fail); background: #fbf3f3; padding: 8px 14px; margin: 10px 0;
          break-inside: avoid; }
.reason .head { font-weight: bold; }
.reason .count { display: inline-block; min-width: 2.2em; padding: 0 6px; margin-right: 8px; text-align: center;
                 background: var(--fail); color: #fff; border-radius: 4px; }
.reason pre { white-space: pre-wrap; margin: 4px 0; font: 18px/1.35 "DejaVu Sans Mono", monospace; }
.who a, .students a { color: #0b4f9c; }
ul.attention { margin: 4px 0; padding-left: 24px; } ul.attention li { margin: 2px 0; }
.students { columns: 3; font-size: 17px; } .students div { break-inside: avoid; }
.tag { font-size: 15px; padding: 0 5px; border-radius: 3px; background: var(--track); white-space: nowrap; }
p.names .name { white-space: nowrap; }
.print-only { display: none; }
@media print {
  @page { size: A4; margin: 11mm; }
  body { font-size: 10.5pt; padding: 0; max-width: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h1 { font-size: 17pt; } h2 { font-size: 13.5pt; margin: 10pt 0 5pt; } h3 { font-size: 12pt; margin: 8pt 0 4pt; }
  .track { height: 11pt; } .hist { height: 80pt; } .hist-labels { font-size: 8.5pt; }
  .reason { padding: 3pt 8pt; margin: 5pt 0; } .reason pre { font-size: 9pt; }
  .more, .screen-only { display: none; } .print-only { display: block; }
  p.names { font-size: 9pt; }
  a { color: inherit; text-decoration: none; }
}
"""


def html_page(summary: Summary, title: str) -> str:
    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{e(title)}</h1>",
             f"<p class=\"muted\">{summary.students} students, graded on backend {e(summary.backend)}. "
             f"Pass rates count the students graded; not started, no submission and errors are listed below.</p>"]
    for lab in summary.labs:
        parts.append(f"<section class=\"lab\" data-lab=\"{e(lab.id)}\"><h2>Lab {e(lab.id)} {e(lab.title)}</h2>")
        parts.append("<p class=\"counts\">" + "".join(
            f"<span data-count=\"{e(status)}\">{n} {e(status)}</span>" for status, n in lab.counts.items()) + "</p>")
        parts.append(f"<p class=\"muted\">{_score_line(lab)}</p>")
        parts.append("<h3>Pass rate per check</h3><table class=\"rates\"><tr><th>check (points)</th>"
                     "<th><span class=\"key pass\"></span> passed <span class=\"key fail\"></span> failed</th>"
                     "<th>passed</th><th>points lost</th></tr>")
        for stat in lab.checks:
            share = stat.passed / stat.graded if stat.graded else 0
            track = "track" if stat.graded else "track none"
            parts.append(
                f"<tr data-check=\"{e(stat.id)}\"><td class=\"check\" title=\"{e(stat.title)}\">{e(stat.id)} "
                f"<span class=\"muted\">({stat.max_points})</span></td>"
                f"<td class=\"barcell\"><div class=\"{track}\"><div class=\"fill\" style=\"width:{100 * share:.1f}%\">"
                f"</div></div></td><td class=\"rate\">{e(stat.rate)}</td>"
                f"<td class=\"lost\">{_lost(stat.points_lost)}</td></tr>")
        parts.append("</table>")
        parts.append(_histogram_html(f"Scores of lab {lab.id}", lab.histogram, lab.id))
        parts.append("</section>")
    if len(summary.labs) > 1:
        parts.append(_histogram_html("Totals", histogram(summary.totals, summary.max_total), "total"))
    parts.append("<section><h2>Most common reasons for failing</h2>")
    if not summary.reasons:
        parts.append("<p>No check failed.</p>")
    for index, reason in enumerate(summary.reasons):
        screen_only = " screen-only" if index >= PRINTED_REASONS else ""
        parts.append(
            f"<div class=\"reason{screen_only}\" data-reason=\"{index}\"><div class=\"head\"><span class=\"count\">"
            f"{len(reason.students)}</span>lab {e(reason.lab)} · {e(', '.join(reason.checks))} "
            f"<span class=\"muted\">(−{reason.points_lost} points in all)</span></div>"
            f"<pre>Observed: {e(reason.observed)}\nExpected: {e(reason.expected)}</pre>"
            f"<div class=\"who\">{_student_links(reason.students, summary)}</div></div>")
    if len(summary.reasons) > PRINTED_REASONS:
        parts.append(f"<p class=\"print-only\">… and {len(summary.reasons) - PRINTED_REASONS} more reasons on the "
                     f"page itself (summary.html).</p>")
    parts.append("</section>")
    parts.append(_attention_html(summary))
    parts.append("<section class=\"screen-only\"><h2>Every student's feedback</h2><div class=\"students\">")
    for student, labs in summary.scores.items():
        marks = " ".join(f"<span class=\"tag\">{e(str(lab))}: {e(str(score))}</span>" for lab, score in labs.items())
        parts.append(f"<div>{_link(student, summary)} {marks}</div>")
    parts.append("</div></section></body></html>\n")
    return "\n".join(parts)


def _lost(points: int) -> str:
    return "none lost" if points == 0 else f"−{points} points"


def _score_line(lab: LabSummary) -> str:
    if not lab.scores:
        return "Nobody was graded."
    ordered = sorted(lab.scores)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    full = sum(score == lab.max_score for score in ordered)
    return (f"Of {len(ordered)} graded: median {median:g}/{lab.max_score}, mean "
            f"{sum(ordered) / len(ordered):.1f}, {full} with full marks.")


def _histogram_html(title: str, bins: list[tuple[str, int]], key: str) -> str:
    most = max([count for _, count in bins] + [1])
    columns = "".join(f"<div class=\"col\" data-bin=\"{html.escape(label)}\"><span class=\"n\">{count}</span>"
                      f"<div class=\"bar\" style=\"height:{80 * count / most:.1f}%\"></div></div>"
                      for label, count in bins)
    labels = "".join(f"<span>{html.escape(label)}</span>" for label, _ in bins)
    return (f"<h3>{html.escape(title)}</h3><div class=\"hist\" data-histogram=\"{html.escape(key)}\">{columns}</div>"
            f"<div class=\"hist-labels\">{labels}</div>")


def _attention_html(summary: Summary) -> str:
    e = html.escape
    parts = ["<section><h2>Students to look at</h2>"]
    detailed = [("flagged", "Flagged (grader files changed: worth a look, not a grade)",
                 [(s, "; ".join(flags)) for s, flags in summary.flagged])]
    named = [
        ("not-started", "Not started (lab files equal the starter; 0 points)", summary.not_started),
        ("no-submission", "No submission (no folder of the lab; 0 points)", summary.no_submission)]
    if not summary.errors and not any(rows for _, _, rows in detailed) and not any(rows for _, _, rows in named):
        parts.append("<p>Nobody: every student was graded, and nobody is flagged.</p>")
    if summary.errors:  # one machine's problem often stops many: each problem once, with whom it stopped
        parts.append(f"<h3>Not graded (error: an infrastructure problem, no score): {len(summary.errors)}</h3>"
                     "<ul class=\"attention\" data-group=\"error\">")
        for (lab, problem), students in errors_by_problem(summary).items():
            parts.append(f"<li>lab {e(lab)}: {e(problem)}: {_student_links(students, summary)}</li>")
        parts.append("</ul>")
    for key, heading, rows in detailed:
        if rows:
            parts.append(f"<h3>{e(heading)}: {len(rows)}</h3><ul class=\"attention\" data-group=\"{key}\">"
                         + "".join(f"<li>{_link(s, summary)}: {e(text)}</li>" for s, text in rows) + "</ul>")
    for key, heading, listed in named:  # many, with little to say of each: a line of names
        if listed:
            names = ", ".join(f"<span class=\"name\">{_link(s, summary)}"
                              + (f" ({e(', '.join(labs))})" if len(summary.labs) > 1 else "") + "</span>"
                              for s, labs in listed)
            parts.append(f"<h3>{e(heading)}: {len(listed)}</h3><p class=\"names\" data-group=\"{key}\">"
                         f"{names}</p>")
    parts.append("</section>")
    return "".join(parts)


def _student_links(students: list[str], summary: Summary, shown: int = 12) -> str:
    links = [_link(s, summary) for s in students]
    if len(links) <= shown:
        return ", ".join(links)
    return (", ".join(links[:shown]) + f"<span class=\"more\">, {', '.join(links[shown:])}</span>"
            f" <span class=\"muted\">({len(links)} in all)</span>")


def _link(student: str, summary: Summary) -> str:
    target = summary.feedback.get(student)
    name = html.escape(student)
    return f"<a href=\"{html.escape(quote(target))}\">{name}</a>" if target else name
