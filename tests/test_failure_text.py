"""What a student reads for a check that did not pass, in the terminal and in a re-grade's feedback file:
one code (graders.report.FailureBlocks), each cause in full once, every failed check with its Read: link."""

from __future__ import annotations

from graders.errors import CheckFailed, InfraError
from graders.lab import Check, Lab
from graders.report import SEE_ABOVE, FailureBlocks

LAB = Lab("9.9", "A lab", pods=["web"], readme="labs/9.9/README.md")
READY = Check("ready", "web is Ready", 10, section="part-1")
SERVES = Check("serves", "web serves its page", 10, section="part-2")
CLEANUP = Check("cleanup", "web deletes cleanly", 5)


def test_a_cause_that_stops_several_checks_is_shown_once_and_each_check_keeps_its_read_link() -> None:
    crash = str(CheckFailed("container app to start", "container app: CrashLoopBackOff", "keep it running",
                            [("Last log lines of web/app", "exiting")]))
    blocks = FailureBlocks()
    first = blocks.block(LAB, READY, "failed", crash)
    second = blocks.block(LAB, SERVES, "failed", crash)
    assert first == f"[ready] web is Ready\n{crash}\nRead:     labs/9.9/README.md#part-1"
    assert second == ("[serves] web serves its page\nObserved: the same as [ready] above\n"
                      "Read:     labs/9.9/README.md#part-2")
    other = str(CheckFailed("web to be deleted", "web still runs"))
    assert blocks.block(LAB, CLEANUP, "failed", other) == f"[cleanup] web deletes cleanly\n{other}"  # no section


def test_an_infrastructure_problem_is_shown_once_then_not_graded_see_above() -> None:
    problem = str(InfraError("podman did not answer", ["podman pod ps"], "restart podman"))
    blocks = FailureBlocks()
    assert blocks.block(LAB, READY, "error", problem) == f"[ready] web is Ready\n{problem}"  # no Read: link
    assert blocks.block(LAB, SERVES, "error", problem) == (
        f"[serves] web serves its page\nInfrastructure problem (no points lost): {SEE_ABOVE}")


# -- the summary: the cause in the line, said once (issue 22, student 3) --------------------------------------
def test_the_summary_says_a_cause_once_and_later_checks_point_to_it() -> None:
    from graders.report import CheckResult, summary_lines

    lab = Lab("9.9", "A lab", pods=["web"], readme="labs/9.9/README.md")
    lab.checks.extend([READY, SERVES, CLEANUP])
    crash = CheckFailed("container app to keep running", "container app: CrashLoopBackOff (3 restarts so far)",
                        "web.yaml, spec.containers[0].volumeMounts[0].mountPath: volume logs is mounted at /var/log, "
                        "a parent folder of /var/log/nginx, where the image writes. Mount it at /var/log/nginx")
    assert crash.headline == ("container app: CrashLoopBackOff (3 restarts so far); cause: web.yaml, "
                              "spec.containers[0].volumeMounts[0].mountPath: volume logs is mounted at /var/log, a "
                              "parent folder of /var/log/nginx, where the image writes")
    results = [CheckResult(check, "failed", str(crash), crash.headline) for check in (READY, SERVES, CLEANUP)]
    lines = summary_lines(lab, results, "podman")
    notes = [line.split("-> ", 1)[1] for line in lines if "-> " in line]
    assert notes == [crash.headline, "the same as [ready] above", "the same as [ready] above"]


def test_a_general_hint_is_not_a_cause_and_a_lead_in_keeps_no_colon() -> None:
    assert CheckFailed("x", "container app: CrashLoopBackOff", "its command must keep running").headline == \
        "container app: CrashLoopBackOff"
    todo = CheckFailed("the Pods", "not started yet: web.yaml still holds TODO placeholders:\n  - web.yaml: image")
    assert todo.headline == "not started yet: web.yaml still holds TODO placeholders"
