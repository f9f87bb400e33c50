"""The labs the project's tests grade, found on disk rather than listed: a lab is a folder labs/<id>/ with a
rubric (test_lab_*.py declaring `lab = Lab(...)`) and a folder tests/submissions/<id>/ holding the graded
submissions and their expected verdicts (verdicts.py: CHECKS and VERDICTS, and optionally the parity
test's CONTEXT_DIFFERS and NOT_ON_THE_FAKE_CLUSTER, CI's ON_KIND, GRADED_WITH: options a
submission is graded with, with why, and ALONE: submissions graded while no other podman test runs).

CI's kind job reads the same tables:

    python -m tests.labs on-kind                  LAB VARIANT lines: what CI grades on a real kind cluster
    python -m tests.labs verdict LAB VARIANT REPORT.json   exit 0 when the report has the expected verdict
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from graders.lab import Lab
from graders.rubric import discover_labs

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LabUnderTest:
    folder: Path  # labs/<id>/, what `pytest labs/<id>` grades
    lab: Lab  # the rubric's declaration: check ids, points, titles
    submissions: Path  # tests/submissions/<id>/
    table: ModuleType  # the verdicts.py beside the submissions

    @property
    def id(self) -> str:
        return self.lab.id

    @property
    def check_ids(self) -> list[str]:
        return [check.id for check in self.lab.checks]

    @property
    def max_score(self) -> int:
        return sum(check.points for check in self.lab.checks)

    @property
    def verdicts(self) -> dict[str, dict[str, str]]:
        return self.table.VERDICTS

    def context_differs(self) -> dict[str, tuple[dict[str, str | tuple[str, ...]], str]]:
        return getattr(self.table, "CONTEXT_DIFFERS", {})

    def not_on_the_fake_cluster(self) -> dict[str, str]:
        return getattr(self.table, "NOT_ON_THE_FAKE_CLUSTER", {})

    def graded_with(self, variant: str) -> tuple[str, ...]:
        """Options the table grades this submission with (GRADED_WITH: variant -> (options, why))."""
        return tuple(getattr(self.table, "GRADED_WITH", {}).get(variant, ((), ""))[0])

    def alone(self) -> dict[str, str]:
        """Submissions graded while no other podman test runs (ALONE: variant -> why)."""
        return getattr(self.table, "ALONE", {})

    def on_kind(self) -> list[str]:
        return ["reference", *getattr(self.table, "ON_KIND", ())]


def find_labs(repo: Path = REPO) -> list[LabUnderTest]:
    """Every lab with both a rubric and a folder of graded submissions, in lab order."""
    return [LabUnderTest(folder, lab, repo / "tests" / "submissions" / folder.name,
                         load_table(repo / "tests" / "submissions" / folder.name / "verdicts.py"))
            for folder, lab in discover_labs(repo)
            if (repo / "tests" / "submissions" / folder.name / "verdicts.py").is_file()]


@cache
def load_table(path: Path) -> ModuleType:
    """A verdicts.py by its path: a folder named "1.2" is no package."""
    spec = importlib.util.spec_from_file_location(f"verdicts_{path.parent.name.replace('.', '_')}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lab_by_id(lab_id: str, repo: Path = REPO) -> LabUnderTest:
    labs = {lab.id: lab for lab in find_labs(repo)}
    if lab_id not in labs:
        raise SystemExit(f"no lab {lab_id!r} with graded submissions (labs: {', '.join(labs) or 'none'})")
    return labs[lab_id]


def mismatches(lab: LabUnderTest, variant: str, report: dict,
               expected: dict[str, str | tuple[str, ...]] | None = None) -> list[str]:
    """What differs between a grade report and the expected verdict of a submission: the rubric's checks
    in its order, exactly the expected ones failed, each message holding its expected words (a tuple: any
    one of them, for a verdict a cluster may reach by two ways, as CONTEXT_DIFFERS says why)."""
    wanted: dict[str, str | tuple[str, ...]] = dict(lab.verdicts[variant] if expected is None else expected)
    checks = {check["id"]: check for check in report["checks"]}
    found = []
    if list(checks) != lab.check_ids:
        found.append(f"checks {list(checks)} instead of {lab.check_ids}")
    failed = {cid for cid, check in checks.items() if not check["passed"]}
    if failed != set(wanted):
        found.append(f"failed checks {sorted(failed)} instead of {sorted(wanted)}")
    for cid, text in wanted.items():
        message = checks.get(cid, {}).get("message", "")
        if not any(words in message for words in ((text,) if isinstance(text, str) else text)):
            found.append(f"{cid}: message lacks {text!r}: {message!r}")
    return found


def main(argv: list[str]) -> int:
    if argv[:1] == ["on-kind"]:
        for lab in find_labs():
            for variant in lab.on_kind():
                print(lab.id, variant)
        return 0
    if argv[:1] == ["verdict"] and len(argv) == 4:
        lab, variant, report = lab_by_id(argv[1]), argv[2], Path(argv[3])
        problems = mismatches(lab, variant, json.loads(report.read_text()))
        for problem in problems:
            print(f"{lab.id} {variant}: {problem}")
        if not problems:
            print(f"{lab.id} {variant}: verdict as expected")
        return 1 if problems else 0
    print("usage: python -m tests.labs on-kind | verdict LAB VARIANT REPORT.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
