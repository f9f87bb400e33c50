"""The class summary a re-grade prints and writes: its numbers are those of grades.json, its reasons group
the same mistake of different students, whatever their runs' markers, ids, IPs or typos."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from graders.class_summary import cause, generic, histogram, summarize, terminal_lines
from tests.classes import CRASH, MOUNT, TYPO, write_class


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("class-out")
    write_class(out)
    return out, json.loads((out / "grades.json").read_text())


def expected_rates(grades: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """check -> (passed, graded, points lost), counted from grades.json here, independently of the summary."""
    rates: dict[str, tuple[int, int, int]] = {}
    for student in grades["students"]:
        result = student["labs"]["1.1"]
        if result["status"] != "graded":
            continue
        for check in result["report"]["checks"]:
            passed, graded, lost = rates.get(check["id"], (0, 0, 0))
            rates[check["id"]] = (passed + check["passed"], graded + 1, lost + check["max_points"] - check["points"])
    return rates


def test_the_terminal_shows_each_checks_pass_rate_and_points_lost_from_grades_json(written) -> None:
    _, grades = written
    text = "\n".join(terminal_lines(summarize(grades)))
    rates = expected_rates(grades)
    assert rates["sidecar-ready"] == (20, 26, 6 * 15)  # 26 graded: 12 + 6 + 5 + 3
    for check, (passed, graded, lost) in rates.items():
        share = round(100 * passed / graded)
        assert re.search(rf"^    {re.escape(check)} +{passed}/{graded}, {share}% .* {lost} points? lost in all$",
                         text, re.MULTILINE), (check, text)
    assert "Lab 1.1 What is a Pod? (26 graded, 2 not-started, 1 no-submission, 1 error)" in text


def test_one_mistake_of_many_students_is_one_reason_whatever_differs_between_their_runs(written) -> None:
    _, grades = written
    summary = summarize(grades)
    by_checks = {tuple(reason.checks): reason for reason in summary.reasons}
    assert [len(reason.students) for reason in summary.reasons] == [6, 5, 3]  # most common first
    crash = by_checks[("sidecar-ready", "sidecar-localhost", "sidecar-shared-volume")]
    assert crash.points_lost == 6 * (15 + 20 + 20) and crash.observed.startswith("container log-shipper: Crash")
    assert by_checks[("sidecar-shared-volume",)].expected.count("k8s101-marker-…") == 1  # 5 markers, one reason
    assert by_checks[("first-pod-ready",)].observed.endswith("expected nginx:1.25; found '…'")  # 3 typos, one reason
    text = "\n".join(terminal_lines(summary))
    assert ("    6 students  lab 1.1 sidecar-ready, sidecar-localhost, sidecar-shared-volume "
            "(−330 points in all)") in text
    assert "         e.g. k8s-101-student13, k8s-101-student14, k8s-101-student15, …" in text  # three examples


def test_what_differs_between_runs_is_taken_out_and_what_the_student_wrote_is_kept() -> None:
    one = MOUNT.format(marker="0123456789ab")
    other = MOUNT.format(marker="fedcba987654")
    assert cause(one) == cause(other) and "k8s101-marker-" not in cause(one)[0].replace("k8s101-marker-…", "")
    assert cause(CRASH.format(id="a" * 64)) == cause(CRASH.format(id="b" * 64))  # details are not the cause
    typo = cause(TYPO.format(typo="nginx:1.255", ip="10.88.0.7"))
    assert typo == cause(TYPO.format(typo="ngnix:latest", ip="10.88.0.9"))
    cases = {  # what differs between runs -> its stand-in; the lesson's own words stay
        "pod IP 10.88.0.12:8080 answered": "pod IP <IP> answered",
        "at 2025-11-26T09:14:03.123Z": "at <time>",
        "after 12.3 s": "after N s",
        "in /tmp/k8s101-regrade-x1y2/submission/my-first-pod.yaml": "in <path>",
        "cgroup /sys/fs/cgroup/pids/libpod_parent/abc": "cgroup <path>",
        "namespace k8s101-1a2b3c4d": "namespace k8s101-<run>",
        "image sha256:" + "e" * 64: "image <id>",
        "mount it at /var/log/nginx, port 80, nginx:1.25": "mount it at /var/log/nginx, port 80, nginx:1.25",
    }
    assert {text: generic(text) for text in cases} == cases
    # a message without Expected/Observed (an error's text) is grouped by its first line
    assert cause("Infrastructure problem (no points lost): podman did not answer\n  tried: x") == (
        "", "Infrastructure problem (no points lost): podman did not answer")


def test_the_histogram_has_ten_bins_of_a_tenth_and_full_marks_alone(written) -> None:
    _, grades = written
    scores = [s["labs"]["1.1"]["score"] for s in grades["students"] if s["labs"]["1.1"]["status"] == "graded"]
    bins = dict(histogram(scores, 100))
    assert list(bins) == ["0–9", "10–19", "20–29", "30–39", "40–49", "50–59", "60–69", "70–79", "80–89", "90–99",
                          "100"]
    assert (bins["100"], bins["40–49"], bins["80–89"]) == (12, 6, 8)  # 45 for the crash, 80 and 85 for the others
    assert sum(bins.values()) == len(scores) == 26
    assert [label for label, _ in histogram([0, 7, 29], 30)] == [
        "0–2", "3–5", "6–8", "9–11", "12–14", "15–17", "18–20", "21–23", "24–26", "27–29", "30"]
    assert dict(histogram([0, 7, 29], 30))["27–29"] == 1
    text = "\n".join(terminal_lines(summarize(grades)))
    shown = text[text.index("  scores of lab 1.1:"):text.index("Most common reasons")].strip().splitlines()
    assert [line.split()[0] for line in shown[1:]] == [  # the empty bins below the lowest score are one line
        "0–39", "40–49", "50–59", "60–69", "70–79", "80–89", "90–99", "100"]
    assert shown[-1].endswith(" 12") and shown[1].endswith(" 0")


def test_students_to_look_at_are_listed(written) -> None:
    _, grades = written
    text = "\n".join(terminal_lines(summarize(grades)))
    attention = text[text.index("Not graded (error"):]
    assert "  lab 1.1: 1 check(s) hit an infrastructure problem: Infrastructure problem" in attention
    assert "\n      k8s-101-student27\n" in attention
    assert "  k8s-101-student01: changed .github/workflows/classroom.yml; added labs/1.1/conftest.py" in attention
    assert "  k8s-101-student14: changed graders/plugin.py" in attention
    assert "Not started (their lab files are the starter's; 0 points):\n  k8s-101-student28, k8s-101-student29" in text
    assert "No submission (no folder of the lab; 0 points):\n  k8s-101-student30" in text
