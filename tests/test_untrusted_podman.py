"""Hostile Pods on real podman: nothing escapes the run's folder and network, nothing exhausts the
machine, killed runs are cleaned up, and podman's own failures are never the student's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from graders.backends.podman import play as podman_play
from graders.validation import caps
from graders.backends.podman import PodmanBackend, PodmanSandbox
from tests.grading import REFERENCE, REPO, SUBMISSIONS, grade_lab

pytestmark = pytest.mark.podman


def sidecar(submission: str) -> dict[str, Any]:
    return yaml.safe_load((SUBMISSIONS / submission / "app-with-sidecar.yaml").read_text())


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=60).stdout


def host_processes() -> int:
    return sum(1 for entry in os.listdir("/proc") if entry.isdigit())


def mem_available() -> int:
    line = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemAvailable"))
    return int(line.split()[1]) * 1024


@pytest.fixture
def sandbox() -> Iterator[PodmanSandbox]:
    opened = PodmanBackend().open_sandbox("1.1", os.urandom(4).hex())
    try:
        yield opened
    finally:
        opened.close()
    assert not opened.run.workdir.exists() and opened.leftovers() == []
    assert podman("network", "ls", "--filter", f"name={opened.run.network}", "--format", "{{.Name}}").split() == []


def until(condition, timeout: float = 60, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)
    return value


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_a_fork_bomb_stops_at_the_pods_limit_and_podman_inspect_shows_the_limits(sandbox: PodmanSandbox) -> None:
    before = host_processes()
    sandbox.apply(sidecar("hostile-fork-bomb"), timeout=60)
    cgroup = sandbox.limits.cgroups["app-with-sidecar"]
    assert (cgroup / "pids.max").read_text().strip() == str(podman_play.POD_PIDS_LIMIT)
    until(lambda: int((cgroup / "pids.current").read_text()) >= podman_play.POD_PIDS_LIMIT - 8)
    time.sleep(2)  # the loop keeps trying to fork: the host must not see more
    assert int((cgroup / "pids.current").read_text()) <= podman_play.POD_PIDS_LIMIT
    assert host_processes() - before < podman_play.POD_PIDS_LIMIT + 200  # 200: other work on the machine
    for container in ("app", "log-shipper"):
        inspected = json.loads(podman("inspect", sandbox.run.container("app-with-sidecar", container)))[0]["HostConfig"]
        assert inspected["Memory"] == podman_play.MEMORY_LIMIT
        assert inspected["NanoCpus"] == 10**9
        assert inspected["LogConfig"]["Size"] == "10MB"
    result = sandbox.exec("app-with-sidecar", "log-shipper", ["true"], timeout=10)
    assert result.exit_code != 0 and "the limit of 1024 for a whole Pod" in result.stderr


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_memory_is_bounded_per_container(sandbox: PodmanSandbox) -> None:
    before = mem_available()
    sandbox.apply(sidecar("hostile-memory"), timeout=60)
    cgroup = Path(str(sandbox.limits.cgroups["app-with-sidecar"]).replace("/pids/", "/memory/"))
    lowest = before
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:  # dd asks for 4 GB every second
        lowest = min(lowest, mem_available())
        time.sleep(0.2)
    assert before - lowest < 1.5 * 2**30
    failures = sum(int(path.read_text()) for path in cgroup.glob("libpod-*/memory.failcnt"))
    assert failures > 0  # the limit was hit, not just set
    state = sandbox.state("app-with-sidecar")
    shipper = state.container("log-shipper") if state else None
    assert shipper is not None and shipper.running  # tail goes on, as on a cluster


def test_an_emptydir_holds_its_size_limit(sandbox: PodmanSandbox) -> None:
    sandbox.apply(sidecar("hostile-disk-fill"), timeout=60)
    folder = sandbox.volumes.folder("app-with-sidecar", "logs")
    assert folder is not None and folder.is_relative_to(sandbox.run.workdir)
    mount = next(line.split() for line in Path("/proc/self/mounts").read_text().splitlines()
                 if line.split()[1] == str(folder))
    assert mount[2] == "tmpfs" and f"size={10 * 1024}k" in mount[3]
    until(lambda: (folder / "fill").exists())
    time.sleep(1)
    assert (folder / "fill").stat().st_size <= 10 * 2**20  # 1 GiB asked for
    sandbox.delete("app-with-sidecar", grace_seconds=0, timeout=30)
    assert not folder.exists() and str(folder) not in Path("/proc/self/mounts").read_text()


def test_volume_names_never_reach_a_host_path(sandbox: PodmanSandbox) -> None:
    """Names like `/` and `../../tmp/...` are refused by the API server (and, on merge, by the manifests
    check); the backend must hold on its own, so this plays the Pod without that check."""
    targets = [Path("/tmp/h1-escape-probe"), Path("/etc/h1-escape-probe"), Path("/escaped")]
    assert not any(path.exists() for path in targets)
    sandbox.apply(sidecar("hostile-volume-names"), timeout=60)
    state = until(lambda: sandbox.state("app-with-sidecar"))
    until(lambda: any(list(folder.glob("escaped")) for folder in sandbox.volumes.folders["app-with-sidecar"].values()))
    for container in ("app", "log-shipper"):
        mounts = json.loads(podman("inspect", sandbox.run.container("app-with-sidecar", container)))[0]["Mounts"]
        sources = [Path(m["Source"]) for m in mounts if m["Destination"] in ("/var/log/nginx", "/escape",
                                                                             "/root-of-host", "/etc-escape")]
        assert sources and all(source.resolve().is_relative_to(sandbox.run.workdir) for source in sources), mounts
    assert not any(path.exists() for path in targets)
    assert state.containers  # it was played: the defence is the folder naming, not a refusal


def test_runs_cannot_reach_each_other(sandbox: PodmanSandbox) -> None:
    server = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "server"}, "spec": {"containers": [
        {"name": "web", "image": "busybox:1.36",
         "command": ["sh", "-c", "echo hello > /tmp/i; httpd -f -p 8080 -h /tmp"]}]}}
    client = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"}, "spec": {"containers": [
        {"name": "c", "image": "busybox:1.36", "command": ["sleep", "600"]}]}}
    other = PodmanBackend().open_sandbox("1.1", os.urandom(4).hex())
    try:
        sandbox.apply(server, timeout=60)
        sandbox.apply(client, timeout=60)
        other.apply(client, timeout=60)
        address = until(lambda: podman("inspect", sandbox.run.container("server", "web"), "--format",
                                       "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}").strip())
        fetch = ["sh", "-c", f"printf 'GET /i HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {address} 8080"]
        until(lambda: "hello" in sandbox.exec("client", "c", fetch, timeout=10).stdout, timeout=20)  # same run: yes
        assert "hello" not in other.exec("client", "c", fetch, timeout=10).stdout  # another run: no
        network = json.loads(podman("network", "inspect", sandbox.run.network))[0]
        assert network["internal"] is True and network["labels"]["k8s101.dev/run-id"] == sandbox.run.run_id
    finally:
        other.close()


KILLED_RUN = """
import sys, time
from graders.backends.podman import PodmanBackend
sandbox = PodmanBackend().open_sandbox("1.1", sys.argv[1])
sandbox.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "left"}, "spec": {
    "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "600"]}],
    "volumes": [{"name": "v", "emptyDir": {}}]}}, timeout=60)
print(sandbox.run.workdir, sandbox.run.network, flush=True)
time.sleep(600)
"""


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_a_killed_runs_leftovers_go_at_the_next_start_once_its_process_is_gone() -> None:
    run_id = os.urandom(4).hex()
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, run_id], cwd=REPO, stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.stdout is not None  # stdout=PIPE
    try:
        workdir, network = process.stdout.readline().split()
        backend = PodmanBackend()
        alive = backend.reap_stale(older_than=3600)
        assert not any(run_id in line for line in alive), alive  # its process runs: kept
        assert subprocess.run(["podman", "pod", "exists", f"left-{run_id}"]).returncode == 0 and Path(workdir).exists()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        removed = backend.reap_stale(older_than=3600)  # an hour is far away: only the owner rule applies
        assert f"podman pod left-{run_id}" in removed and f"podman network {network}" in removed
        assert f"directory {workdir}" in removed
        assert subprocess.run(["podman", "pod", "exists", f"left-{run_id}"]).returncode == 1
        assert subprocess.run(["podman", "network", "exists", network]).returncode == 1
        assert not Path(workdir).exists() and workdir not in Path("/proc/self/mounts").read_text()
    finally:
        process.kill()
        process.wait(timeout=30)
        subprocess.run(["podman", "pod", "stop", "-t", "0", "--ignore", f"left-{run_id}"], capture_output=True)
        subprocess.run(["podman", "pod", "rm", "-f", "-t", "0", "--ignore", f"left-{run_id}"], capture_output=True)
        subprocess.run(["podman", "network", "rm", "-f", f"k8s101-{run_id}"], capture_output=True)


def test_a_missing_pause_binary_is_the_machines_problem_not_the_students(pytester: pytest.Pytester,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S101_MACHINE_FAULT", "pause-image")
    report = pytester.path / "grade.json"
    result = grade_lab(pytester, "-p", "tests.machine_faults", "--backend", "podman", "--submission", str(REFERENCE),
                       "--grade-report", str(report))
    checks = {check["id"]: check for check in json.loads(report.read_text())["checks"]}
    for cid in ("first-pod-ready", "first-pod-serves", "sidecar-ready", "sidecar-localhost", "sidecar-shared-volume"):
        assert checks[cid]["status"] == "error", checks[cid]
        assert "for a reason of the machine's, not of your YAML" in checks[cid]["message"]
        assert "catatonit" in checks[cid]["message"]
    result.stdout.no_fnmatch_line("*Traceback*")


# -- issue 20: the Pod as a whole, and the grader's own reads -------------------------------------------------
def grader_peak() -> int:
    """This process's peak resident memory, in bytes (the grader's own: what a Pod's output costs it)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def processes_of(cgroup: Path) -> int:
    """Processes on the host inside a Pod's cgroup: its containers' and their conmons."""
    return sum(len(procs.read_text().split()) for procs in cgroup.rglob("cgroup.procs"))


def host_mounts() -> int:
    return len(Path("/proc/self/mounts").read_text().splitlines())


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_a_pods_memory_budget_bounds_its_containers_and_their_tmpfs_together(sandbox: PodmanSandbox) -> None:
    """Eight containers, six of them holding 300 MB and 120 MB of tmpfs each: 2.5 GB without the Pod's budget."""
    before, mounts = mem_available(), host_mounts()
    sandbox.apply(sidecar("hostile-pod-memory"), timeout=60)
    memory = Path(str(sandbox.limits.cgroups["app-with-sidecar"]).replace("/pids/", "/memory/"))
    assert int((memory / "memory.limit_in_bytes").read_text()) == podman_play.POD_MEMORY_LIMIT
    lowest, hits, busiest = before, 0, 0

    def budget_hit_a_while_ago() -> bool:  # the hogs start, fill, are OOM-killed and restarted meanwhile
        nonlocal lowest, hits, busiest
        lowest = min(lowest, mem_available())
        busiest = max(busiest, processes_of(sandbox.limits.cgroups["app-with-sidecar"]))
        hits += int((memory / "memory.failcnt").read_text()) > 0  # hit, not only set: a few looks after the first
        return hits > 25

    until(budget_hit_a_while_ago, timeout=120, every=0.2)
    assert before - lowest < podman_play.POD_MEMORY_LIMIT + 512 * 2**20  # 512 MiB: the machine's other work
    # the kernel may charge a few pages per CPU ahead (memcg's charge batch): 16 MiB of slack
    assert int((memory / "memory.max_usage_in_bytes").read_text()) <= podman_play.POD_MEMORY_LIMIT + 16 * 2**20
    # what this Pod runs on the host, its containers' processes and their conmons, sampled at its busiest; counted by
    # cgroup, as the machine is shared (another session's fork bomb must not fail this test, nor hide this Pod's)
    assert busiest < 200, busiest
    # the host sees each container's root filesystem, each tmpfs volume and a few of the Pod's own: bounded
    # because the Pod's containers and volumes are (graders/validation/caps.py)
    assert host_mounts() - mounts <= 4 * (caps.MAX_CONTAINERS + 1) + 2 * caps.MAX_VOLUMES
    state = sandbox.state("app-with-sidecar")
    assert state is not None and state.container("app") is not None


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_a_containers_own_filesystem_is_bounded_and_its_pod_evicted_as_a_kubelet_would(sandbox: PodmanSandbox) -> None:
    from graders.backends.podman import storage_watch
    sandbox.apply(sidecar("hostile-rootfs-fill"), timeout=60)  # 6 GB into /tmp of log-shipper's own layer

    def evicted() -> bool:
        state = sandbox.state("app-with-sidecar")  # as the checks read it while they wait
        return state is not None and state.phase == "Failed"

    until(evicted, timeout=60, every=0.2)
    state = sandbox.state("app-with-sidecar")
    assert state is not None and {c.reason for c in state.containers} == {"Evicted"}
    assert "wrote more than 512 MiB into its own filesystem" in state.containers[1].message
    layer = sandbox.storage.layers[("app-with-sidecar", "log-shipper")]
    time.sleep(2)
    # what the Pod took of the machine's disk, counted in its own layer (the disk is shared with other sessions):
    # the limit and what one measuring interval and the kill let through (dd writes about 1 GB/s here), not 6 GB
    assert storage_watch.usage(layer, limit=2**40) < storage_watch.EPHEMERAL_STORAGE_LIMIT + 2 * 2**30
    running = podman("ps", "--filter", f"pod={sandbox.run.pod('app-with-sidecar')}", "--format", "{{.Names}}").split()
    assert not [name for name in running if not name.endswith("-infra")]  # stopped at once, as a kubelet evicts
    assert sandbox.delete("app-with-sidecar", grace_seconds=None, timeout=30)
    assert not Path(layer).exists()  # given back once the Pod is gone


@pytest.mark.alone  # what one run reaps, or the whole machine measured
def test_an_exec_that_prints_a_gigabyte_costs_the_grader_its_bound_only(sandbox: PodmanSandbox) -> None:
    from graders.backends.podman import cli
    sandbox.apply(sidecar("reference"), timeout=60)
    until(lambda: (state := sandbox.state("app-with-sidecar")) is not None and state.phase == "Running")
    peak, available = grader_peak(), mem_available()
    result = sandbox.exec("app-with-sidecar", "log-shipper", ["head", "-c", "1200000000", "/dev/zero"], timeout=120)
    assert result.exit_code == 0 and len(result.stdout) == cli.EXEC_OUTPUT_LIMIT  # a kubelet keeps 10 KiB
    assert grader_peak() - peak < 64 * 2**20  # 1.2 GB printed: the grader grew by less than 64 MiB
    assert available - mem_available() < 512 * 2**20


def test_an_exec_that_outlives_its_time_is_the_commands_failure_and_is_ended(sandbox: PodmanSandbox) -> None:
    sandbox.apply(sidecar("reference"), timeout=60)
    until(lambda: (state := sandbox.state("app-with-sidecar")) is not None and state.phase == "Running")
    began = time.monotonic()
    result = sandbox.exec("app-with-sidecar", "log-shipper", ["sleep", "300"], timeout=1)
    assert result.timed_out and "did not finish within 1 s" in result.stderr
    assert time.monotonic() - began < 30
    def command(pid: str) -> bytes:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return b""

    procs = [path for path in sandbox.limits.cgroups["app-with-sidecar"].rglob("cgroup.procs")]
    left = [pid for path in procs for pid in path.read_text().split() if command(pid) == b"sleep\x00300\x00"]
    assert left == []  # ended, as a runtime ends an exec at its timeout


def test_an_endless_answer_to_the_graders_request_is_read_to_its_bound(sandbox: PodmanSandbox) -> None:
    from graders.backends.podman import netns
    sandbox.apply(sidecar("hostile-endless-body"), timeout=60)
    until(lambda: (state := sandbox.state("app-with-sidecar")) is not None and state.phase == "Running")
    peak = grader_peak()
    answer = until(lambda: (got := sandbox.http_get("app-with-sidecar", 8080, "/cgi-bin/answer", timeout=10))
                   .status and got, timeout=30)
    assert answer.status == 200 and len(answer.body) == netns.MAX_BODY
    assert grader_peak() - peak < 64 * 2**20


def test_an_expansion_bomb_fails_its_container_at_once_and_leaves_nothing(sandbox: PodmanSandbox) -> None:
    peak, began = grader_peak(), time.monotonic()
    sandbox.apply(sidecar("hostile-expansion-bomb"), timeout=60)
    state = sandbox.state("app-with-sidecar")
    assert state is not None and time.monotonic() - began < 5 and grader_peak() - peak < 64 * 2**20
    shipper = state.container("log-shipper")
    assert shipper is not None and shipper.reason == "RunContainerError" and "argument list too long" in shipper.message
    played = sandbox.run.pod("app-with-sidecar")
    assert subprocess.run(["podman", "pod", "exists", played]).returncode == 1  # never played
    assert sandbox.leftovers() == []


def test_a_run_stopped_while_it_grades_a_bomb_leaves_nothing_behind(tmp_path: Path) -> None:
    """SIGTERM (CI cancelling the job) during the grade of the expansion bomb: the run ends and removes what it made."""
    session = f"stopped-{os.urandom(4).hex()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(REPO / "labs" / "1.1"), "--backend", "podman", "-p", "no:cacheprovider",
         "--submission", str(SUBMISSIONS / "hostile-expansion-bomb"), "-q"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "K8S101_SESSION": session})
    label = f"label=k8s101.dev/session={session}"
    try:
        until(lambda: podman("pod", "ps", "--filter", label, "--format", "{{.Name}}").split()
              or process.poll() is not None, timeout=120, every=0.2)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    finally:
        process.kill()
    assert podman("pod", "ps", "--filter", label, "--format", "{{.Name}}").split() == []
    assert podman("ps", "--all", "--filter", label, "--format", "{{.Names}}").split() == []
    assert podman("network", "ls", "--filter", label, "--format", "{{.Name}}").split() == []
    def owned(folder: Path) -> bool:
        try:
            return session in (folder / "owner.json").read_text(errors="replace")
        except OSError:
            return False

    assert [folder for folder in Path(tempfile.gettempdir()).glob("k8s101-*") if owned(folder)] == []


def test_a_restart_storm_is_held_by_the_kubelets_back_off(sandbox: PodmanSandbox) -> None:
    """Issue 20's restart storm: containers that exit at once under restartPolicy Always. podman restarted them at
    once, for ever (a conmon, runc and cleanup process each time); the grader's kubelet starts each again at once
    after its first end, then after 10 s, 20 s... (kubernetes/kubernetes pkg/kubelet/kubelet.go backOffPeriod,
    client-go util/flowcontrol/backoff.go). Measured: the restarts of each container, and when they came."""
    pod = sidecar("hostile-restart-storm")
    crashing = [c["name"] for c in pod["spec"]["containers"] if c["name"].startswith("crash-")]
    sandbox.apply(pod, timeout=60)
    began = time.monotonic()
    seen: dict[str, list[float]] = {name: [] for name in crashing}  # container -> when each restart was seen
    while time.monotonic() - began < 25:
        state = sandbox.state("app-with-sidecar")
        assert state is not None
        for container in state.containers:
            if container.name in seen and container.restarts > len(seen[container.name]):
                seen[container.name] += [time.monotonic() - began] * (container.restarts - len(seen[container.name]))
        time.sleep(0.5)
    for name, restarts in seen.items():
        # at once, then 10 s after the second end (a busy machine may add a few seconds, never remove any): a
        # third restart would need 20 s more
        assert 1 <= len(restarts) <= 2, (name, restarts)
        if len(restarts) == 2:
            assert restarts[1] - restarts[0] >= 10 - 1, (name, restarts)  # podman's times are whole seconds
        inspected = json.loads(podman("inspect", sandbox.run.container("app-with-sidecar", name)))[0]
        assert inspected["RestartCount"] == 0  # podman itself restarted nothing: played with restartPolicy Never
    events = sandbox.events("app-with-sidecar")
    assert any("Back-off restarting failed container crash-1" in line for line in events), events


def test_a_pods_only_container_restarts_after_podman_stopped_its_sandbox(sandbox: PodmanSandbox) -> None:
    """`kube play` gives a pod the exit policy "stop": once its only container exits, podman stops the infra
    container. A node keeps the Pod's sandbox (kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go
    computePodActions restarts containers in the existing sandbox): the second restart, 10 s after the first, must
    come. Measured: `podman start` of the container starts the stopped infra container with it."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lonely"},
           "spec": {"restartPolicy": "Always", "containers": [
               {"name": "c", "image": "docker.io/library/busybox:1.36", "command": ["sh", "-c", "sleep 1; exit 1"]}]}}
    sandbox.apply(pod, timeout=60)
    infra, stopped = sandbox.run.infra["lonely"], False

    def restarted_twice() -> bool:
        nonlocal stopped
        stopped |= podman("inspect", "--format", "{{.State.Status}}", infra).strip() == "exited"
        state = sandbox.state("lonely")
        assert state is not None and state.containers[0].reason != "RunContainerError", state
        return state.containers[0].restarts >= 2

    until(restarted_twice, timeout=90, every=0.2)
    assert stopped  # the case was met: podman had stopped the sandbox before a restart
