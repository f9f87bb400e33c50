"""The lab verdict table on the kind/context path: every graded submission, graded through
graders/backends/kube.py against the fake cluster (tests/cluster), gets the verdict it gets on podman.

Marked `cluster` (deselect with `-m "not cluster"`). Where a verdict must differ on this path, DIFFERS
says why (the same checks fail; only the words differ).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator
from unittest.mock import patch

import pytest

from tests.cluster.fixture import CONTEXT, FakeCluster, fake_cluster
from tests.grading import SUBMISSIONS, grade_lab
from tests.verdicts import VERDICTS, mismatches

pytestmark = pytest.mark.cluster

# submission -> (verdict on the context path, why it differs from podman's): the table's verdicts
# hold on both paths today; a submission whose verdict must differ goes here, with the reason.
DIFFERS: dict[str, tuple[dict[str, str], str]] = {
    "evidence-foreign-digest": (
        {"first-pod-ready": "ErrImagePull", "first-pod-serves": "ErrImagePull"},
        "a cluster pulls by digest and the registry has no such manifest for nginx (ErrImagePull); podman runs the "
        "local image that digest names, and the grader refuses it by identity: the same checks fail"),
}

# Submissions that test how the grading machine contains a hostile Pod. On a cluster the node does that
# (the kubelet's podPidsLimit, eviction at an emptyDir's sizeLimit, log rotation), and the fake cluster
# models none of it: played through it, these would load this machine instead of testing a verdict.
NOT_ON_THE_FAKE_CLUSTER: dict[str, str] = {
    "hostile-fork-bomb": "pids are bounded by the kubelet's podPidsLimit (kind-config.yaml), not modelled here",
    "hostile-disk-fill": "a kubelet evicts a Pod over its emptyDir sizeLimit; not modelled here",
    "hostile-log-flood": "a kubelet rotates container logs; not modelled here (1 GiB would land on this disk)",
    "hostile-init-hangs": "a cluster waits for the init container until the ready deadline (180 s): the same FAIL, "
                          "three minutes later; its podman verdict is in the table",
}


def test_every_submission_left_out_is_in_the_table_with_a_reason() -> None:
    assert set(NOT_ON_THE_FAKE_CLUSTER) <= set(VERDICTS)
    assert all(reason.strip() for reason in NOT_ON_THE_FAKE_CLUSTER.values())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    with fake_cluster(tmp_path_factory.mktemp("fake-cluster")) as running:
        yield running


def grade(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster, submission: Path,
          *args: str) -> tuple[pytest.RunResult, dict]:
    """Grade as a student with a context does: `pytest labs/1.1 --backend context --context NAME`."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))  # how the context backend finds the file
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "--backend", "context", "--context", CONTEXT, "--submission", str(submission),
                       "--grade-report", str(report), *args)
    return result, json.loads(report.read_text())


@pytest.mark.parametrize("variant", sorted(set(VERDICTS) - set(NOT_ON_THE_FAKE_CLUSTER)))
def test_same_verdict_as_on_podman(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                   cluster: FakeCluster, variant: str) -> None:
    result, report = grade(pytester, monkeypatch, cluster, SUBMISSIONS / variant)
    if variant in DIFFERS:
        with patch.dict(VERDICTS, {variant: DIFFERS[variant][0]}):
            found = mismatches(variant, report)
    else:
        found = mismatches(variant, report)
    assert found == [], result.stdout.str() + "\n".join(cluster.output[-20:])
    assert report["score"] == sum(c["max_points"] for c in report["checks"] if c["passed"])
    result.stdout.fnmatch_lines([f"Score: {report['score']}/100 (backend context)"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*grader error*")


def test_the_table_was_graded_on_real_containers(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                 cluster: FakeCluster) -> None:
    """Not a table replayed: the failure shows the kubelet's status and events from the fake cluster."""
    result, _ = grade(pytester, monkeypatch, cluster, SUBMISSIONS / "sidecar-exits", "--timeout-ready", "120")
    result.stdout.fnmatch_lines(["*container log-shipper: CrashLoopBackOff*", "Recent events of app-with-sidecar:",
                                 "*Normal Pulled: Successfully pulled image \"busybox:1.36\"*",
                                 "*Warning BackOff: Back-off restarting failed container log-shipper in pod*"])
