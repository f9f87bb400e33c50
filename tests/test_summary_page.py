"""OUT/summary.html in a real browser (headless chromium): it shows the numbers of grades.json, loads nothing
from the network, links every student's feedback, and prints on one or two pages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import browser
from tests.classes import write_class


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], browser.Page]:
    out = tmp_path_factory.mktemp("class-out")
    write_class(out)
    page = browser.render(out / "summary.html", out, screenshot=out / "summary.png", pdf=out / "summary.pdf")
    return out, json.loads((out / "grades.json").read_text()), page


def test_the_page_shows_each_checks_pass_rate_as_grades_json_counts_it(rendered) -> None:
    _, grades, page = rendered
    shown = page.rates("1.1")
    assert shown == browser.expected_rates(grades, "1.1")
    assert shown["sidecar-ready"] == ("20/26, 77%", "−90 points") and shown["manifests"] == ("26/26, 100%", "none lost")
    [lab] = page.root.find("section", data_lab="1.1")
    counts = {e.attrs["data-count"]: e.all_text() for e in lab.has("data-count")}
    assert counts == {"graded": "26 graded", "not-started": "2 not-started", "no-submission": "1 no-submission",
                      "error": "1 error"}
    assert "Of 26 graded: median 85/100, mean 81.7, 12 with full marks." in page.text()


def test_the_page_shows_the_score_distribution_and_the_reasons_with_their_students(rendered) -> None:
    out, grades, page = rendered
    [histogram] = page.root.find("div", data_histogram="1.1")
    bins = {col.attrs["data-bin"]: int(col.find("span")[0].all_text()) for col in histogram.has("data-bin")}
    scores = [s["labs"]["1.1"]["score"] for s in grades["students"] if s["labs"]["1.1"]["status"] == "graded"]
    assert sum(bins.values()) == len(scores) and bins["100"] == scores.count(100) == 12
    assert bins["40–49"] == scores.count(45) == 6
    reasons = page.root.has("data-reason")
    assert [int(r.find("span", **{"class": "count"})[0].all_text()) for r in reasons] == [6, 5, 3]
    crash = reasons[0].all_text()
    assert "sidecar-ready, sidecar-localhost, sidecar-shared-volume" in crash
    assert "Observed: container log-shipper: CrashLoopBackOff" in crash
    assert [a.all_text() for a in reasons[0].find("a")] == [f"k8s-101-student{n}" for n in range(13, 19)]
    assert "k8s101-marker-…" in reasons[1].all_text() and "found '…'" in reasons[2].all_text()


def test_every_student_links_to_their_feedback_and_the_page_loads_nothing_from_outside(rendered) -> None:
    out, grades, page = rendered
    links = {a.all_text(): a.attrs["href"] for a in page.root.find("a")}
    assert set(links) == {s["student"] for s in grades["students"]}
    for student, href in links.items():
        assert (out / href).is_file() and "# Lab 1.1" in (out / href).read_text(), student
    attention = {group.attrs["data-group"]: [item.all_text() for item in group.find("li") + group.find("span")]
                 for group in page.root.has("data-group")}
    assert attention["error"] == ["lab 1.1: 1 check(s) hit an infrastructure problem: Infrastructure problem (no "
                                  "points lost): podman did not answer within 60 s while trying to start Pod "
                                  "my-first-pod: k8s-101-student27"]
    assert [line.split(":")[0] for line in attention["flagged"]] == ["k8s-101-student01", "k8s-101-student14"]
    assert attention["not-started"] == ["k8s-101-student28", "k8s-101-student29"]
    assert attention["no-submission"] == ["k8s-101-student30"]
    source = (out / "summary.html").read_text()
    assert "<script" not in source and "url(" not in source and "@import" not in source
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", source)


def test_the_page_reads_on_a_screen_and_prints_on_one_or_two_pages(rendered) -> None:
    out, _, _ = rendered
    assert browser.png_size(out / "summary.png") == (1280, 900)
    assert (out / "summary.png").stat().st_size > 30_000  # text and bars, not a blank page
    assert 1 <= browser.pdf_pages(out / "summary.pdf") <= 2


def test_a_large_class_still_prints_on_two_pages_at_most(tmp_path: Path) -> None:
    """300 students, many reasons (each typo of a class this size still one), many not started: the printout
    keeps what an instructor discusses (rates, scores, the first reasons, whom to look at) and leaves the
    list of every student's feedback to the screen."""
    from graders.gradebook import LabGrade
    from tests.classes import LAB, report
    rows = write_class(tmp_path, scale=10)
    for number, row in enumerate(rows[:40]):  # 40 more reasons, one student each
        row.labs["1.1"] = LabGrade("1.1", "graded", report(["cleanup"], f"Expected: a\nObserved: reason {number}"))
    from graders.gradebook import write_outputs
    write_outputs(tmp_path, [LAB], rows, "podman")
    page = browser.render(tmp_path / "summary.html", tmp_path, pdf=tmp_path / "summary.pdf")
    assert len(page.root.has("data-reason")) == 43
    assert 1 <= browser.pdf_pages(tmp_path / "summary.pdf") <= 2


def test_what_students_wrote_is_shown_as_text_never_as_markup(tmp_path: Path) -> None:
    from graders.gradebook import LabGrade, Row, write_outputs
    from tests.classes import LAB, report
    hostile = Row(student="<img src=x onerror=alert(1)>", labs={"1.1": LabGrade(
        "1.1", "graded", report(["manifests"], "Expected: a Pod\nObserved: found '<script>alert(1)</script>'"),
        attempts=1)})
    write_outputs(tmp_path, [LAB], [hostile], "podman")
    page = browser.render(tmp_path / "summary.html", tmp_path)
    assert not page.root.find("img") and not page.root.find("script")
    assert "<img src=x onerror=alert(1)>" in page.text() and "found '…'" in page.text()
