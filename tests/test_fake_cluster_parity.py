"""Every lab's verdict table on the kind/context path: every graded submission, graded through
graders/backends/kube/ against the fake cluster (tests/cluster), gets the verdict it gets on podman.

Marked `cluster` (deselect with `-m "not cluster"`) and `podman` (the fake cluster plays Pods with it).
Where a verdict must differ on this path, the lab's verdicts.py says why in CONTEXT_DIFFERS (the same
checks fail; only the words differ); what the fake cluster cannot model is in its NOT_ON_THE_FAKE_CLUSTER
(tests/test_labs.py checks that both name submissions of the table, with reasons).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from tests.cluster.fixture import CONTEXT, FakeCluster, fake_cluster
from tests.grading import LAB, grade_lab
from tests.labs import LabUnderTest, find_labs, mismatches

pytestmark = [pytest.mark.cluster, pytest.mark.podman]

LABS = find_labs()
EXAMPLE = next(lab for lab in LABS if lab.folder == LAB)  # its sidecar-exits shows the kubelet's own events
# The kubelet's restart back-off starts at 1 s here, not a node's 10 s: a crash loop is a verdict after
# CRASH_EXITS ends, whatever their pace (podman's runs, restarted by the grader's kubelet at a node's pace, give
# the same verdicts), and each crash-looping row takes 5 s instead of 35 s. The node's pace is kept by
# test_fake_cluster_faults.py (a sidecar that settles after two crashes) and by kind in CI.
RESTART_BACKOFF = "restart-backoff:1"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    with fake_cluster(tmp_path_factory.mktemp("fake-cluster"), RESTART_BACKOFF) as running:
        yield running


def grade(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster, lab: LabUnderTest,
          submission: Path, *args: str) -> tuple[pytest.RunResult, dict]:
    """Grade as a student with a context does: `pytest labs/<id> --backend context --context NAME`."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))  # how the context backend finds the file
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", "context", "--context", CONTEXT, "--submission", str(submission),
                       "--grade-report", str(report), *args, lab=lab.folder)
    return result, json.loads(report.read_text())


@pytest.mark.parametrize(("lab", "variant"), [
    pytest.param(lab, variant, id=f"{lab.id}/{variant}")
    for lab in LABS for variant in sorted(set(lab.verdicts) - set(lab.not_on_the_fake_cluster()))])
def test_same_verdict_as_on_podman(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                   cluster: FakeCluster, lab: LabUnderTest, variant: str) -> None:
    result, report = grade(pytester, monkeypatch, cluster, lab, lab.submissions / variant)
    differs = lab.context_differs()
    found = mismatches(lab, variant, report, differs[variant][0] if variant in differs else None)
    assert found == [], result.stdout.str() + "\n".join(cluster.output[-20:])
    assert report["score"] == sum(c["max_points"] for c in report["checks"] if c["passed"])
    result.stdout.fnmatch_lines([f"Score: {report['score']}/{lab.max_score} (backend context)"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*grader error*")


def test_the_table_was_graded_on_real_containers(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                 cluster: FakeCluster) -> None:
    """Not a table replayed: the failure shows the kubelet's status and events from the fake cluster."""
    result, _ = grade(pytester, monkeypatch, cluster, EXAMPLE, EXAMPLE.submissions / "sidecar-exits",
                      "--timeout-ready", "120")
    result.stdout.fnmatch_lines(["*container log-shipper: CrashLoopBackOff*", "Recent events of app-with-sidecar:",
                                 "*Normal Pulled: Successfully pulled image \"busybox:1.36\"*",
                                 "*Warning BackOff: Back-off restarting failed container log-shipper in pod*"])
    assert "fake-cluster: fault restart-backoff fired: container log-shipper restarts in 1 s" in cluster.output
