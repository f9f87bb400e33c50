"""Interruptions, killed runs, concurrent runs and repeated runs, on podman."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from graders.backends.base import MANAGED_BY_LABEL, RUN_LABEL, STARTED_LABEL
from graders.backends.podman.owners import SESSION_LABEL, SESSION_VARIABLE
from tests.grading import SUBMISSIONS, grader_command

pytestmark = pytest.mark.podman

OURS = f"label={MANAGED_BY_LABEL}=k8s101-graders"


def grader(submission: str, *args: str, report: Path | None = None) -> list[str]:
    command = grader_command("--backend", "podman", "--submission", str(SUBMISSIONS / submission), "-q", *args)
    return command + (["--grade-report", str(report)] if report else [])


def our_pods(owner: int) -> list[dict]:
    """The pods of the grading run in process `owner` (other runs may share the machine)."""
    listed = subprocess.run(["podman", "pod", "ps", "--filter", OURS, "--filter", f"label=k8s101.dev/pid={owner}",
                             "--format", "json"], capture_output=True, text=True, check=True).stdout
    return json.loads(listed or "[]")


def start_and_wait_for_pods(command: list[str], cwd: Path) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while len(our_pods(process.pid)) < 2:
        assert time.monotonic() < deadline and process.poll() is None, "the run never started its pods"
        time.sleep(0.1)
    return process


def test_ctrl_c_mid_run_leaves_nothing(tmp_path: Path) -> None:
    process = start_and_wait_for_pods(grader("sidecar-silent"), tmp_path)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert "grader: interrupted: removing what this run made (podman pods labelled" in output
    assert "grader: removed." in output
    assert "checks not run" in output and "Score:" not in output  # no full-looking score (issue 22, student 4)
    assert "KeyboardInterrupt" not in output and "Traceback" not in output
    assert our_pods(process.pid) == []


def play(tmp_path: Path, name: str, labels: dict[str, str]) -> str:
    """A pod made outside a grading run, with these labels (and the test session's: its leftover check sees it)."""
    manifest = tmp_path / f"{name}.yaml"
    labels = {**labels, SESSION_LABEL: os.environ[SESSION_VARIABLE]}
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
                                        "spec": {"containers": [{"name": "c", "image": "docker.io/library/busybox:1.36",
                                                                 "command": ["sleep", "600"]}]}}))
    subprocess.run(["podman", "kube", "play", str(manifest)], capture_output=True, check=True)
    return name


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_a_killed_runs_leftovers_are_labelled_and_removed_by_a_later_run(tmp_path: Path) -> None:
    process = start_and_wait_for_pods(grader("sidecar-silent"), tmp_path)
    process.kill()  # SIGKILL: no cleanup can run
    process.communicate(timeout=60)
    left = our_pods(process.pid)
    assert len(left) == 2
    run_ids = {pod["Labels"][RUN_LABEL] for pod in left}
    assert len(run_ids) == 1 and all(abs(int(pod["Labels"][STARTED_LABEL]) - time.time()) < 120 for pod in left)
    [workdir] = Path(tempfile.gettempdir()).glob(f"k8s101-{run_ids.pop()}-*")
    time.sleep(1.5)
    later = subprocess.run(grader("reference", "--reap-after", "1"), cwd=tmp_path, capture_output=True, text=True)
    assert later.returncode == 0, later.stdout
    assert "grader: removed what killed runs left behind: podman pod" in later.stdout
    assert our_pods(process.pid) == [] and not workdir.exists()


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_leftovers_are_removed_only_when_ours_and_old(tmp_path: Path) -> None:
    ours = {MANAGED_BY_LABEL: "k8s101-graders", RUN_LABEL: "feedbeef"}
    # Old for this run (--reap-after 60), young for any other run on the machine (an hour by default), which
    # would otherwise reap it first.
    old, recent = str(int(time.time()) - 120), str(int(time.time()))
    killed = play(tmp_path, "k8s101-killed", {**ours, STARTED_LABEL: old})
    running = play(tmp_path, "k8s101-running", {**ours, STARTED_LABEL: recent})
    students = play(tmp_path, "students-own", {STARTED_LABEL: old})
    try:
        result = subprocess.run(grader("reference", "--reap-after", "60"), cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
        assert f"removed what killed runs left behind: podman pod {killed}" in result.stdout
        names = subprocess.run(["podman", "pod", "ps", "--format", "{{.Name}}"], capture_output=True, text=True).stdout
        assert killed not in names.split() and {running, students} <= set(names.split())
    finally:
        subprocess.run(["podman", "pod", "stop", "--ignore", "-t", "0", killed, running, students], capture_output=True)
        subprocess.run(["podman", "pod", "rm", "--force", "--ignore", "-t", "0", killed, running, students],
                       capture_output=True)


def stuck_in_stopping(tmp_path: Path, name: str, labels: dict[str, str]) -> str:
    """A pod whose container podman 4.3 keeps in "stopping" for good: its `podman pod stop` and its conmon
    killed at once, as when a grading run and its podman children are killed, or the machine goes down
    (podman-container-tools/podman pull request 23089 names the same steps)."""
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {**labels, SESSION_LABEL: os.environ[SESSION_VARIABLE]}},
        "spec": {"terminationGracePeriodSeconds": 3600, "containers": [{
            "name": "c", "image": "docker.io/library/busybox:1.36",
            "command": ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]}]}}))
    subprocess.run(["podman", "kube", "play", str(manifest)], capture_output=True, check=True)
    container = f"{name}-c"
    stopping = subprocess.Popen(["podman", "pod", "stop", "-t", "3600", name], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def state(field: str) -> str:
        return subprocess.run(["podman", "inspect", container, "--format", f"{{{{.State.{field}}}}}"],
                              capture_output=True, text=True, check=True).stdout.strip()

    deadline = time.monotonic() + 120
    while state("Status") != "stopping":
        assert time.monotonic() < deadline and stopping.poll() is None, "podman never began to stop the pod"
        time.sleep(0.2)
    stopping.kill()
    stopping.wait()
    os.kill(int(state("ConmonPid")), signal.SIGKILL)
    return name


@pytest.mark.alone  # what one run reaps
def test_a_leftover_stuck_in_stopping_is_removed_without_waiting_for_it(tmp_path: Path) -> None:
    """`pod stop` waits forever for such a container: the reap must not, nor report the machine broken."""
    old = str(int(time.time()) - 120)
    stuck = stuck_in_stopping(tmp_path, "k8s101-stuck", {MANAGED_BY_LABEL: "k8s101-graders", RUN_LABEL: "deadbeef",
                                                          STARTED_LABEL: old})
    try:
        result = subprocess.run(grader("reference", "--reap-after", "60"), cwd=tmp_path, capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout
        assert "could not remove" not in result.stdout
        assert f"removed what killed runs left behind: podman pod {stuck}" in result.stdout
        assert subprocess.run(["podman", "pod", "exists", stuck]).returncode == 1
    finally:
        subprocess.run(["podman", "pod", "rm", "--force", "--ignore", "-t", "0", stuck], capture_output=True)


def test_two_runs_at_once_both_grade_correctly(tmp_path: Path) -> None:
    reports = [tmp_path / "a.json", tmp_path / "b.json"]
    runs = [subprocess.Popen(grader("reference", report=report), cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for report in reports]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert [json.loads(report.read_text())["score"] for report in reports] == [100, 100]
    assert [our_pods(run.pid) for run in runs] == [[], []]


@pytest.mark.parametrize("variant", ["reference", "sidecar-exits", "sidecar-silent"])
def test_the_same_submission_gets_the_same_grade_every_time(tmp_path: Path, variant: str) -> None:
    verdicts = []
    for attempt in range(3):
        report = tmp_path / f"{attempt}.json"
        subprocess.run(grader(variant, report=report), cwd=tmp_path, capture_output=True, text=True)
        grade = json.loads(report.read_text())
        verdicts.append((grade["score"], [(c["id"], c["status"]) for c in grade["checks"]]))
    assert verdicts[0] == verdicts[1] == verdicts[2]


def test_the_leftover_check_counts_this_sessions_objects_and_no_one_elses(tmp_path: Path) -> None:
    """Two test sessions on one machine (parallel workers, two developers) never fail each other's check."""
    from tests.conftest import podman_objects
    mine = play(tmp_path, f"k8s101-mine-{os.getpid()}", {})
    other = f"k8s101-other-{os.getpid()}"
    manifest = tmp_path / "other.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": other, "labels": {SESSION_LABEL: "tests-another-session"}}, "spec": {"containers": [
            {"name": "c", "image": "docker.io/library/busybox:1.36", "command": ["sleep", "600"]}]}}))
    subprocess.run(["podman", "kube", "play", str(manifest)], capture_output=True, check=True)
    try:
        ids = {name: subprocess.run(["podman", "pod", "inspect", "--format", "{{.Id}}", name], capture_output=True,
                                    text=True, check=True).stdout.strip()[:12] for name in (mine, other)}
        found = podman_objects()
        assert f"pod {ids[mine]}" in found and f"pod {ids[other]}" not in found
    finally:
        subprocess.run(["podman", "pod", "stop", "--ignore", "-t", "0", mine, other], capture_output=True)
        subprocess.run(["podman", "pod", "rm", "--force", "--ignore", "-t", "0", mine, other], capture_output=True)
