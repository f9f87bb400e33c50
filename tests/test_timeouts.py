"""A check declares its own timeouts next to its declaration (graders/timeouts.py): they replace the run's
defaults while it runs, a value the user set wins over them, and what a check cannot bound is refused when
the rubric is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.backends.offline import OfflineSandbox
from graders.lab import Check, Lab
from graders.manifests import Submission
from graders.run import LabRun
from graders.timeouts import Timeouts
from tests.grading import REPO


def a_run(timeouts: Timeouts) -> LabRun:
    submission = Submission(folder=Path("."), expected_pods=("web",), files=[], pods={})
    return LabRun(lab=Lab("9.9", "test", pods=["web"]), submission=submission, sandbox=OfflineSandbox(),
                  timeouts=timeouts)


def test_the_defaults_are_the_values_the_checks_had() -> None:
    assert Timeouts() == Timeouts(apply=60, ready=180, exec=10, delete=60, show_up=5)


def test_a_checks_own_timeouts_replace_the_defaults_while_it_runs() -> None:
    lab = Lab("9.9", "test", pods=["web"])
    lab.check("slow", 10, "a slow exec", timeouts={"exec": 30, "show_up": 12})
    lab.check("plain", 10, "the run's")
    slow, plain = lab.checks
    assert slow.timeouts == (("exec", 30.0), ("show_up", 12.0))
    run = a_run(Timeouts())
    run.begin(slow)
    assert (run.timeouts.exec, run.timeouts.show_up, run.timeouts.delete) == (30, 12, 60)
    run.begin(plain)  # the next check gets the run's values back
    assert run.timeouts == Timeouts()


def test_a_timeout_the_user_set_wins_over_the_checks_own() -> None:
    run = a_run(Timeouts(exec=7, given=frozenset({"exec"})))
    run.begin(Check("slow", "a slow exec", 10, timeouts=(("exec", 30.0), ("delete", 90.0))))
    assert (run.timeouts.exec, run.timeouts.delete) == (7, 90)


@pytest.mark.parametrize("timeouts, message", [
    ({"ready": 300}, "timeouts['ready'] is the run's (--timeout-ready), not a check's; a check declares exec, "
                     "delete, show_up"),
    ({"apply": 5}, "timeouts['apply'] is the run's (--timeout-apply)"),
    ({"exce": 5}, "timeouts['exce'] is unknown; a check declares exec, delete, show_up"),
    ({"exec": 0}, "timeouts['exec']: give a number of seconds above 0, at most 86400"),
    ({"exec": float("nan")}, "give a number of seconds above 0"),
    ({"exec": "30"}, "give a number of seconds above 0"),
    ({"delete": 86401}, "at most 86400"),
])
def test_what_a_check_cannot_bound_is_refused_when_the_rubric_is_read(timeouts: dict, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        Lab("9.9", "test", pods=["web"]).check("slow", 10, "t", timeouts=timeouts)
    assert str(refused.value).startswith("lab 9.9, check slow: ")
    assert message in str(refused.value)


# A lab whose Pod is missing: nothing is applied (no backend starts), and each check says the exec timeout it got.
RUBRIC = '''
from graders import Lab
from graders.errors import CheckFailed

lab = Lab("9.2", "Timeouts", pods=["solo"], readme="README.md")


def say(lab_run):
    raise CheckFailed(expected="-", observed=f"exec {lab_run.timeouts.exec:g}", hint="-")


@lab.check("own", 50, "declares its exec timeout", timeouts={"exec": 42})
def test_own(lab_run):
    say(lab_run)


@lab.check("run", 50, "takes the run's")
def test_run(lab_run):
    say(lab_run)
'''


@pytest.mark.parametrize("args, seen", [((), {"own": "exec 42", "run": "exec 10"}),
                                        (("--timeout-exec", "3"), {"own": "exec 3", "run": "exec 3"})])
def test_the_plugin_gives_each_check_its_own_timeouts(pytester: pytest.Pytester, args: tuple[str, ...],
                                                      seen: dict[str, str]) -> None:
    folder = pytester.mkdir("lab")
    (folder / "README.md").write_text("# Lab 9.2\n")
    (folder / "test_lab_9_2.py").write_text(RUBRIC)
    (pytester.path / "pytest.ini").write_text((REPO / "pytest.ini").read_text())
    report = pytester.path / "grade.json"
    pytester.runpytest_subprocess(str(folder), "-c", str(pytester.path / "pytest.ini"), "--rootdir",
                                  str(pytester.path), "--backend", "podman", "--grade-report", str(report), *args)
    checks = json.loads(report.read_text())["checks"]
    assert {c["id"]: c["headline"] for c in checks} == seen
