"""Each lab's tables agree with its rubric and its folders, offline: the podman and fake-cluster tables
(tests/test_labs_podman.py, tests/test_fake_cluster_parity.py) then grade what these name."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.labs import REPO, LabUnderTest, find_labs, main

LABS = find_labs()
by_id = pytest.mark.parametrize("lab", LABS, ids=[lab.id for lab in LABS])


def test_every_lab_folder_with_a_rubric_and_submissions_is_found() -> None:
    rubrics = {path.parent.name for path in REPO.glob("labs/*/test_lab_*.py")}
    tables = {path.parent.name for path in REPO.glob("tests/submissions/*/verdicts.py")}
    assert rubrics == tables, "every lab needs tests/submissions/<id>/verdicts.py, and every table a lab"
    assert [lab.folder.name for lab in LABS] == sorted(rubrics, key=lambda i: [int(p) for p in i.split(".")])
    assert all(lab.folder.name == lab.id for lab in LABS)


@by_id
def test_the_table_names_the_rubrics_checks_and_its_points_sum_to_100(lab: LabUnderTest) -> None:
    assert lab.table.CHECKS == lab.check_ids
    assert lab.max_score == 100
    for variant, failed in lab.verdicts.items():
        assert set(failed) <= set(lab.check_ids), variant
        assert all(isinstance(words, str) and words for words in failed.values()), variant


@by_id
def test_every_submission_folder_has_a_verdict_and_every_verdict_a_folder(lab: LabUnderTest) -> None:
    folders = {path.name for path in lab.submissions.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == set(lab.verdicts)
    assert lab.verdicts["reference"] == {}


@by_id
def test_what_the_fake_cluster_and_ci_leave_out_or_add_is_in_the_table_with_a_reason(lab: LabUnderTest) -> None:
    assert set(lab.not_on_the_fake_cluster()) <= set(lab.verdicts)
    assert set(lab.context_differs()) <= set(lab.verdicts)
    assert set(getattr(lab.table, "GRADED_WITH", {})) <= set(lab.verdicts)
    assert set(lab.alone()) <= set(lab.verdicts) and all(why.strip() for why in lab.alone().values())
    assert all(options and why.strip() for options, why in getattr(lab.table, "GRADED_WITH", {}).values())
    assert all(reason.strip() for reason in lab.not_on_the_fake_cluster().values())
    assert all(reason.strip() for _, reason in lab.context_differs().values())
    assert set(lab.on_kind()) <= set(lab.verdicts)


def test_ci_grades_every_labs_reference_on_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["on-kind"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [lab_id for lab_id, variant in lines if variant == "reference"] == [lab.id for lab in LABS]
    tables = {lab.id: lab.verdicts for lab in LABS}
    assert all(variant in tables[lab_id] for lab_id, variant in lines)


@by_id
def test_ci_checks_a_report_against_the_table(lab: LabUnderTest, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    checks: list[dict[str, Any]] = [{"id": check.id, "passed": True, "message": ""} for check in lab.lab.checks]
    report = {"lab": lab.id, "score": 100, "max_score": 100, "checks": checks}
    (tmp_path / "ok.json").write_text(json.dumps(report))
    assert main(["verdict", lab.id, "reference", str(tmp_path / "ok.json")]) == 0
    assert capsys.readouterr().out == f"{lab.id} reference: verdict as expected\n"
    checks[-1]["passed"] = False
    (tmp_path / "bad.json").write_text(json.dumps(report))
    assert main(["verdict", lab.id, "reference", str(tmp_path / "bad.json")]) == 1
    assert f"failed checks ['{lab.check_ids[-1]}'] instead of []" in capsys.readouterr().out


def test_ci_runs_the_table_as_a_module(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text(json.dumps({"checks": []}))
    run = subprocess.run([sys.executable, "-m", "tests.labs", "verdict", LABS[0].id, "reference",
                          str(tmp_path / "empty.json")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "checks [] instead of" in run.stdout
    unknown = subprocess.run([sys.executable, "-m", "tests.labs", "verdict", "0.0", "reference", "x.json"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "no lab '0.0' with graded submissions" in unknown.stderr

def anchors(readme: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", readme, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@by_id
def test_every_check_links_to_a_section_of_the_labs_readme(lab: LabUnderTest) -> None:
    readme = (REPO / lab.lab.readme).read_text(encoding="utf-8")
    assert (REPO / lab.lab.readme).parent == lab.folder
    missing = [(check.id, check.section) for check in lab.lab.checks if check.section not in anchors(readme)]
    assert missing == []
