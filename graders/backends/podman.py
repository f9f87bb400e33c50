"""Podman backend: real pods from Pod YAML with `podman kube play`, on a machine without Kubernetes.

Where podman differs from Kubernetes: `podman kube play` (4.3) is not Kubernetes; each difference
that would change a verdict is bridged here (the played copy is built in podman_play.py), so that a
correct solution passes and a wrong one fails as it would on a cluster:
- Pod names are global on the machine: each Pod runs as `<name>-<run id>`, labelled with the run.
- containerPort is published on the host (two pods with port 80 collide): ports are dropped from
  the played copy; checks read the spec as submitted.
- emptyDir becomes an anonymous volume pre-filled from the image (nginx's log symlinks would land
  in it): each emptyDir is played as a bind mount of a fresh, empty folder named by the grader.
- Annotations act on podman (seccomp `unconfined`, `io.containers.sdnotify` hangs play, values over
  63 characters are refused): the played copy has none; the policy refuses the unsafe ones.
- `$(VAR)` in command/args is not expanded (podman < 4.7): the played copy is expanded as the kubelet does.
- Secrets, configMaps, persistentVolumeClaims and subPath come from the machine's stores or are
  ignored: the lab's policy (graders/policy.py, Allowances) refuses them before anything is played.
- No pids, memory, CPU or log limits apply by default: see "Untrusted code" below.
- A failed play (image not found, command not found) leaves a half-made pod and no Kubernetes
  status: the pod is removed and the failure is reported as the status Kubernetes would show.
  Podman's own failures (pause image, catatonit, storage, runtime) are InfraErrors instead.
- Init containers run inside `podman pod start`: one that never finishes would hang it; after the
  apply timeout it is the Pod's failure (its containers never start), not the machine's.
- Every Pod is played with restartPolicy Never: podman restarts at once, for ever (a restart storm of conmon,
  runc and cleanup processes on the host). The grader's kubelet (podman_kubelet.py) starts containers again
  as the submitted policy says, with the kubelet's back-off (10 s, 20 s, ... 300 s), and its restart count,
  CrashLoopBackOff and the probes' verdict are what state() reports.
- readinessProbe is not run by podman: the checks run it from the grader's side (exec, httpGet,
  tcpSocket), as a kubelet would (no capability "readiness-probes"). livenessProbe and startupProbe are run
  by the grader's kubelet, from the grader's side too, which kills a container that fails them.
- Pods are the only kind (capability kind:Pod alone): a lab that needs a Service is not graded here,
  and says so before anything starts.
- terminationGracePeriodSeconds is honoured on delete by this backend (podman's stop timeout is 10 s);
  a Pod that outlives a grace longer than the delete timeout fails cleanup, as on a cluster.
- Native sidecars (init containers with `restartPolicy: Always`) would block play: refused at once
  with an InfraError that names --backend kind.
- Evidence comes from the grader's side: HTTP made by the grader itself inside the Pod's network
  namespace (netns.py; as root) or else from a grader-owned busybox container joined to it, the volume
  from the host folder the grader owns, the image by its ID, the first process of a container from the
  host's /proc (see the end of PodmanSandbox).

Untrusted code: each run gets its own `--internal` podman network (pods of other runs and the
outside are unreachable), each Pod's cgroup a pids limit (POD_PIDS_LIMIT) and a memory budget for all its
containers and their tmpfs together (POD_MEMORY_LIMIT), both written before any container starts, each
container a memory and CPU limit and a bounded log file, each emptyDir a size-limited tmpfs (when run as
root), and each container's writable layer is watched: past its ephemeral-storage limit the Pod is evicted, as
a kubelet does (storage_watch.py). The size of a Pod is capped offline (graders/validation/caps.py).
Everything carries the run's labels and its owner (host, boot id, PID): a later run removes it at once when
that process is provably gone.

The grader's own reads: every podman call goes through bounded.py (each stream at most a bound, the call
within its timeout); HTTP through netns.py reads a bounded body; volumes are read under directory descriptors
without following links (volume_reader.py).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from graders import kubelet
from graders.backends import bounded, netns, podman_kubelet, podman_play, storage_watch, volume_reader
from graders.backends.base import (
    MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL, TIMED_OUT, ContainerState, ExecResult, PodState, is_stale, run_labels)
from graders.backends.base import (  # grader-side evidence
    MAX_VOLUME_BYTES, HttpResponse, RunningProgram, request_path)
from graders.errors import InfraError

INSTALL_HINT = ("install podman 4.x (Debian/Ubuntu: apt-get install podman); on the project's build "
                "machines run scripts/setup-debian.sh, which also points CONTAINERS_CONF at "
                "scripts/podman/containers.conf")
NOISE = ("failed to connect to syslog",)
WORKDIR_PREFIX = "k8s101-"  # per-run directories for emptyDir volumes, under the temporary directory
KUBERNETES_DEFAULT_GRACE = 30
# podman's own work around a Pod's stop (signals, conmon exiting, cleanup) comes on top of the grace: on a busy
# 2-core machine `pod stop -t 3` was seen taking more than 4 s. A process timeout of grace + 1 s raced it and
# turned the student's stubborn Pod into "no points lost".
STOP_MARGIN = 30.0
SIGKILLED = 137  # exit code of a process killed by SIGKILL (128 + 9): what podman sends when a grace ends
EXEC_MARGIN = 5.0  # seconds podman may take to start an exec (conmon, runc), beyond the command's own time
EXEC_SETTLE = 1.0  # seconds without a process of a timed-out exec before it is surely ended
CLOCK_SLACK = 1.0  # seconds: podman's FinishedAt and this process's clock are the host's, read a moment apart
OWNER_LABELS = ("k8s101.dev/host", "k8s101.dev/boot-id", "k8s101.dev/pid", "k8s101.dev/pid-start")
SESSION_VARIABLE = "K8S101_SESSION"  # set by a tool that starts many runs: their objects carry it as a label
SESSION_LABEL = "k8s101.dev/session"
OWNER_FILE = "owner.json"  # in a run's work folder: the same owner as its labels
# Bounds on what the grader reads from podman about a Pod (each stream, in bytes): what a Pod prints never
# grows the grader's own memory beyond these (graders/backends/bounded.py).
PODMAN_OUTPUT_LIMIT = 16 * 1024**2  # podman's own answers (inspect JSON of a Pod of 8 containers: ~100 KiB)
EXEC_OUTPUT_LIMIT = 64 * 1024  # an exec's output, its first bytes (a kubelet keeps 10 KiB of a probe's)
LOG_READ_LIMIT = 256 * 1024  # `podman logs --tail N`, its last bytes (N lines of a flood can be megabytes)
MACHINE_FIX = ("check that `podman run --rm docker.io/library/busybox:1.36 true` works on its own; on the "
               "project's build machines run scripts/setup-debian.sh, whose preflight says what is missing")


class PodmanBackend:
    name = "podman"

    def __init__(self, podman: str = "podman") -> None:
        found = shutil.which(podman)
        if not found:
            raise InfraError("podman is not installed or not on PATH",
                             tried=[f"looked for {podman!r} on PATH"], fix=INSTALL_HINT)
        self.podman = found
        # Whether podman works shows in the first real call (the run's network), and is diagnosed
        # there: a `podman info` up front costs 0.3 s of every run.

    def open_sandbox(self, lab_id: str, run_id: str) -> "PodmanSandbox":
        return PodmanSandbox(self.podman, lab_id, run_id)

    def reap_stale(self, older_than: float) -> list[str]:
        """Remove what killed runs left: at once when their process is provably gone, else by age."""
        now = time.time()

        def stale(labels: dict[str, str] | None) -> bool:  # a run whose process still runs is never stale
            return not owner_alive(labels or {}) and (is_stale(labels, older_than, now) or (
                (labels or {}).get(MANAGED_BY_LABEL) == MANAGED_BY and owner_gone(labels or {})))

        listed = _call(self.podman, "pod", "ps", "--filter", f"label={MANAGED_BY_LABEL}={MANAGED_BY}",
                       "--format", "json", timeout=30, what="list the pods of killed runs")
        pods = [pod for pod in _json(listed.stdout) if stale(pod.get("Labels"))]
        names = [pod["Name"] for pod in pods]
        _remove_pods(self.podman, names, stuck={pod["Name"] for pod in pods if _stuck_stopping(pod)})
        removed = [f"podman pod {name}" for name in names]
        listed = _call(self.podman, "network", "ls", "--filter", f"label={MANAGED_BY_LABEL}={MANAGED_BY}",
                       "--format", "json", timeout=30, what="list the networks of killed runs")
        for network in _json(listed.stdout):
            if stale(network.get("labels")):
                _call(self.podman, "network", "rm", "--force", network["name"], timeout=60,
                      what="remove the network of a killed run")
                removed.append(f"podman network {network['name']}")
        for workdir in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
            try:  # another run may be removing its own directory right now
                owner = _owner_file(workdir)
                if workdir.is_dir() and not owner_alive(owner) and (
                        now - workdir.stat().st_mtime > older_than or owner_gone(owner)):
                    _remove_workdir(workdir)
                    removed.append(f"directory {workdir}")
            except (OSError, RecursionError):
                continue
        return removed

    def close(self) -> None:
        pass


class PodmanSandbox:
    def __init__(self, podman: str, lab_id: str, run_id: str) -> None:
        self.podman = podman
        self.run_id = run_id
        self.lab_id = lab_id  # for commands the student is told to run
        self.description = f"podman pods labelled {RUN_LABEL}={run_id}"
        self.started_at = time.time()
        self.labels = {**run_labels(run_id, self.started_at), **owner_labels()}
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{run_id}-")).resolve()
        (self.workdir / OWNER_FILE).write_text(json.dumps(self.labels))
        self.submitted: dict[str, dict[str, Any]] = {}  # student's name -> Pod as submitted
        self.failed: dict[str, PodState] = {}  # Pods whose play failed, with the status Kubernetes shows
        self.notes: dict[str, list[str]] = {}  # what podman said about each Pod, our stand-in for events
        self.volumes: dict[str, dict[str, Path]] = {}  # student's Pod -> volume name -> host folder
        self.cgroups: dict[str, Path] = {}  # student's Pod -> its pids cgroup folder
        self.digests: dict[str, set[str] | None] = {}  # lab image -> its identities, as looked up once
        self.images: dict[str, list[dict[str, Any]]] = {}  # image -> `podman image inspect`, as looked up once
        self.programs: dict[tuple[str, str], dict[str, str] | None] = {}  # (image, program) -> its files by sha256
        self.removed: set[str] = set()  # Pods deleted and seen gone: nothing of them left to remove
        self.infra: dict[str, str] = {}  # student's Pod -> its infra container's ID
        self.pids: dict[tuple[str, str], int] = {}  # (Pod, container) -> host PID of its first process, as last read
        self.namespaces: dict[str, tuple[int, str]] = {}  # student's Pod -> its infra PID, that PID's start time
        self.evicted: dict[str, str] = {}  # student's Pod -> why the grader evicted it, as a kubelet would
        self.storage = storage_watch.Watcher(self._evict)  # the containers' writable layers
        self.kubelet = podman_kubelet.Kubelet(KubeletRuntime(self))  # restarts with back-off; liveness, startup probes
        self.enter_namespaces = netns.usable()  # requests of the grader's own in the Pod's network (else a probe)
        self.numbers = itertools.count(1)  # Pods are applied from parallel threads: next() is atomic
        self.network = f"{WORKDIR_PREFIX}{run_id}"
        created = self._podman("network", "create", "--internal", *_label_args(self.labels), self.network,
                               timeout=60, what="create this run's network")
        if created.returncode != 0:
            remove_tree(self.workdir)
            info = self._podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=30,
                                what="check that podman works")
            if info.returncode != 0:
                raise InfraError("podman is installed but does not work",
                                 tried=[f"podman info: {_error_text(info.stderr)}"], fix=INSTALL_HINT)
            raise InfraError(f"podman could not create a network for this run: {_error_text(created.stderr)}",
                             tried=[f"podman network create --internal {self.network}"], fix=MACHINE_FIX)

    # -- naming -----------------------------------------------------------------------------------
    def _pod(self, name: str) -> str:
        return f"{name}-{self.run_id}"

    def _container(self, pod: str, container: str) -> str:
        return f"{self._pod(pod)}-{container}"

    # -- Sandbox ----------------------------------------------------------------------------------
    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        """Create the Pod stopped, bound its processes, then start it (init containers first)."""
        if pod.get("kind", "Pod") != "Pod":  # the capability check stops such a lab before it gets here
            raise InfraError(f"podman runs Pods only, not {pod.get('kind')} {pod['metadata']['name']}",
                             fix="use --backend kind (or --backend context)")
        deadline = time.monotonic() + timeout
        name = pod["metadata"]["name"]
        self._refuse_native_sidecars(pod)
        self.submitted[name] = copy.deepcopy(pod)
        index = next(self.numbers)  # file and folder names come from the grader, never from the YAML
        played = self._inside(self.workdir / f"pod{index}.yaml")
        try:
            playable = podman_play.playable(pod, self._pod(name), self.labels,
                                            lambda number, volume: self._volume_folder(name, index, number, volume))
        except podman_play.TooLong as too_long:  # no node could start it: the container's start fails, as there
            container, _, where = too_long.where.partition(": ")
            message = (f"after $(VAR) expansion, {where} of {container} would be longer than {too_long.limit} bytes, "
                       f"the most Linux passes to a program it starts (execve: argument list too long)")
            self._note(name, message)
            self._remove_volumes(name)
            self.failed[name] = _failed_state(pod, message, set(), "RunContainerError",
                                              only={container.removeprefix("container ")})
            return
        played.write_text(yaml.safe_dump(playable))
        result = self._podman("kube", "play", "--start=false", "--network", self.network, "--log-driver", "k8s-file",
                              "--log-opt", f"max-size={podman_play.LOG_MAX_SIZE}", str(played),
                              timeout=timeout, what=f"create Pod {name}")
        self._note(name, f"podman kube play: exit {result.returncode}")
        if result.returncode == 0:
            self._limit_processes(name)
            started = self._start(name, pod, max(1.0, deadline - time.monotonic()), timeout)
            if started is None:
                return  # a Pod that cannot start: its state says why
            result = started
            self._note(name, f"podman pod start: exit {result.returncode}")
            if result.returncode == 0:
                self.kubelet.add(name, self.submitted[name]["spec"])
                return
        error = _error_text(result.stderr)
        _remove_pods(self.podman, [self._pod(name)])
        reason = _reason_for(error)
        if reason is None:
            self._note(name, error)
            raise InfraError(f"podman could not start Pod {name} for a reason of the machine's, not of your YAML: "
                             f"{error}", tried=[f"podman kube play {played}"], fix=_machine_fix(error))
        shown = without_machine_paths(error, self.workdir)  # the submission's failure: in a cluster's terms
        self._note(name, shown)
        missing = {c.get("image", "") for c in pod["spec"].get("containers", [])
                   if not self._image_exists(c.get("image", ""))}
        self.failed[name] = _failed_state(pod, shown, missing, reason, only=_mounting(pod, error))

    def state(self, pod: str) -> PodState | None:
        if pod in self.failed:
            return self.failed[pod]
        if pod in self.evicted and pod in self.submitted and pod not in self.removed:
            return _evicted_state(self.submitted[pod], self.evicted[pod])
        submitted = self.submitted.get(pod)
        if submitted is None:
            return None
        names = [self._container(pod, c["name"]) for c in submitted["spec"].get("containers", [])]
        result = self._inspect_containers(names, pod)
        if result.returncode != 0:
            if "no such container" in result.stderr:
                return None  # removed (by us, or behind our back)
            raise InfraError(f"podman could not read Pod {pod}: {_error_text(result.stderr)}",
                             tried=[f"podman container inspect {' '.join(names)}"], fix="check `podman ps`")
        inspected = {c["Name"]: c for c in _json(result.stdout)}
        for c in submitted["spec"].get("containers", []):
            found = inspected.get(self._container(pod, c["name"])) or {}
            self.pids[(pod, c["name"])] = int((found.get("State") or {}).get("Pid") or 0)
            self.storage.watch(pod, c["name"], str(((found.get("GraphDriver") or {}).get("Data") or {}).get(
                "UpperDir") or ""))
        self.kubelet.observe(pod, {c["name"]: _run_of(found) for c in submitted["spec"].get("containers", [])
                                   for found in [inspected.get(self._container(pod, c["name"]))] if found})
        policy = submitted["spec"].get("restartPolicy", "Always")
        containers = tuple(
            dataclasses.replace(_container_state(c, found, self.kubelet.record(pod, c["name"]), policy),
                                image_id=(found or {}).get("Image", ""))
            for c in submitted["spec"].get("containers", [])
            for found in [inspected.get(self._container(pod, c["name"]))])
        return PodState(name=pod, phase=_phase(containers, policy),
                        labels=dict(submitted["metadata"].get("labels") or {}),
                        spec=submitted["spec"], containers=containers)

    def _inspect_containers(self, names: list[str], pod: str) -> subprocess.CompletedProcess[str]:
        """`container inspect`, asked again when it lost a race with a process that was exiting: podman reads
        /proc/<pid>/cgroup of a container it still believes running, and that PID can be gone in between. The
        next look sees the container exited; only a failure that repeats is the machine's."""
        result = self._podman("container", "inspect", *names, timeout=30, what=f"read Pod {pod}")
        for pause in (0.05, 0.1, 0.2):
            if result.returncode == 0 or not _exit_race(result.stderr):
                break
            time.sleep(pause)
            result = self._podman("container", "inspect", *names, timeout=30, what=f"read Pod {pod}")
        return result

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        # podman's own start of an exec (conmon, runc) comes before the command's time: seconds on a busy machine
        what = f"run {' '.join(argv)!r} in container {container} of Pod {pod}"
        command = [self.podman, "exec", self._container(pod, container), *argv]
        try:
            result = _run(command, timeout=timeout + EXEC_MARGIN, limit=EXEC_OUTPUT_LIMIT)
        except subprocess.TimeoutExpired:
            # Whose time was it? The command still running in the container outlived its time (the submission's,
            # as a kubelet's probe timeout says); no such process means podman never started it (the machine's).
            if self._stop_command(pod, argv, timeout):
                return ExecResult(TIMED_OUT, "", f"the command did not finish within {timeout:g} s", timed_out=True)
            raise InfraError(f"podman did not answer within {timeout + EXEC_MARGIN:g} s while trying to {what}",
                             tried=[" ".join(["podman", *command[1:]])],
                             fix="check `podman ps`; raise the timeout with --timeout-* if the machine is "
                                 "slow") from None
        except OSError as error:
            raise InfraError(f"podman cannot be run any more ({error.strerror or error}) while trying to {what}",
                             tried=[" ".join(command)], fix=INSTALL_HINT) from error
        stderr = _strip_noise(result.stderr)
        if result.returncode in (125, 126, 127) and "executable file not found" in stderr:
            return ExecResult(127, result.stdout, stderr)
        if result.returncode != 0 and re.search(r"resource temporarily unavailable|cannot run conmon", stderr, re.I):
            used = self._processes(pod)
            if used is not None and used >= podman_play.POD_PIDS_LIMIT - 8:  # conmon and runc need a few
                return ExecResult(result.returncode, result.stdout,
                                  f"no command can start in Pod {pod}: it already runs {used} processes, the limit "
                                  f"of {podman_play.POD_PIDS_LIMIT} for a whole Pod here (a cluster limits them too)")
        if result.returncode == 125 and "no such container" in stderr:
            raise InfraError(f"container {container} of Pod {pod} is gone: something outside the grader removed it",
                             tried=[f"podman exec {self._container(pod, container)}"],
                             fix="do not remove the grader's pods while it runs; run it again")
        return ExecResult(result.returncode, result.stdout, stderr)

    def _stop_command(self, pod: str, argv: list[str], timeout: float) -> bool:
        """Kill the processes of the Pod that run exactly argv (an exec that outlived its time, as a runtime ends
        an exec at its timeout), looking again for a moment (conmon may still be starting one); True when one of
        them had run for its whole `timeout`: then the time was the command's. Read on the host, in the Pod's
        cgroup, with each process's own start time (a slow podman that started it late is the machine's)."""
        wanted = "\0".join(argv).encode() + b"\0"
        cgroup = self.cgroups.get(pod)
        outlived = False
        quiet_since = time.monotonic()
        while cgroup is not None and time.monotonic() - quiet_since < EXEC_SETTLE:
            for procs in cgroup.rglob("cgroup.procs"):
                try:
                    pids = [int(line) for line in procs.read_text().split()]
                except (OSError, ValueError):
                    continue
                for pid in pids:
                    try:
                        if Path(f"/proc/{pid}/cmdline").read_bytes() != wanted:
                            continue
                        outlived = outlived or _age(pid) >= timeout
                        os.kill(pid, signal.SIGKILL)
                        quiet_since = time.monotonic()
                    except OSError:
                        continue  # it has just ended
            time.sleep(0.1)
        return outlived

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        if pod in self.failed:
            return ""
        result = _call(self.podman, "logs", "--tail", str(tail), self._container(pod, container),
                       timeout=30, what=f"read the logs of {container}", limit=LOG_READ_LIMIT, keep="tail")
        return result.stdout + _strip_noise(result.stderr) if result.returncode == 0 else ""

    def events(self, pod: str) -> list[str]:
        return list(self.notes.get(pod, []))

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        """A Pod as submitted, while it exists (podman keeps no Kubernetes object); no other kind exists here."""
        state = self.state(name) if kind == "Pod" else None
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": state.labels},
                "spec": state.spec} if state else None

    def _evict(self, pod: str, container: str, used: int) -> None:
        """What a kubelet does with a Pod whose container passed its ephemeral-storage limit: stop it at once
        (grace 0); its phase is Failed, its reason Evicted (storage_watch.py). Called by the watcher's thread."""
        limit = storage_watch.EPHEMERAL_STORAGE_LIMIT
        self.evicted[pod] = (
            f"the Pod was evicted: container {container} wrote more than {limit // 2**20} MiB into its own filesystem "
            f"(its writable layer, outside any volume: {used // 2**20} MiB or more), the ephemeral-storage limit "
            f"each container gets here, as a LimitRange's default would give it on a cluster, where the kubelet "
            f"evicts a Pod whose container passes its limit")
        self._note(pod, self.evicted[pod])
        self.kubelet.forget(pod)  # an evicted Pod's containers are never started again
        self._kill_containers(pod)  # at once: `pod stop` takes seconds on a busy machine, a writer 1 GB a second
        try:
            _call(self.podman, "pod", "stop", "--ignore", "-t", "0", self._pod(pod), timeout=60,
                  what=f"evict Pod {pod}")
        except InfraError as error:
            self._note(pod, f"could not stop it: {error.problem}")

    def _kill_containers(self, pod: str) -> None:
        """SIGKILL every process of the Pod's containers (their libpod-* cgroups; conmon and podman's own are left
        to podman), read on the host."""
        cgroup = self.cgroups.get(pod)
        for procs in (cgroup.glob("libpod-*/cgroup.procs") if cgroup else []):
            try:
                pids = [int(line) for line in procs.read_text().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        self.storage.forget(pod)
        self.kubelet.forget(pod)  # a Pod being deleted is neither restarted nor probed any more
        if pod in self.failed:  # nothing runs: podman removed it when the play failed
            del self.failed[pod]
            self._remove_volumes(pod)
            return True
        if grace_seconds is None:  # kube play ignores terminationGracePeriodSeconds; honour it here
            grace_seconds = self.submitted.get(pod, {}).get("spec", {}).get(
                "terminationGracePeriodSeconds", KUBERNETES_DEFAULT_GRACE)
        name, own = self._pod(pod), int(grace_seconds)
        grace = max(0, min(own, int(timeout) - 1))  # a grace beyond the timeout fails like kind
        stopping_since = time.time()
        self._stop(pod, grace)
        # The verdict comes from what happened to the Pod, never from how long podman took (a busy machine
        # makes podman slow, not the student's Pod): a container that podman had to kill when a grace cut to
        # the timeout ended was still running at the deadline, where a cluster, granting the whole grace,
        # still shows the Pod.
        # An evicted Pod was killed by the grader's kubelet moments ago (_evict): podman may write those
        # containers' FinishedAt only now, inside the window, and nothing of the Pod ran on to outlive a delete.
        outlived = pod not in self.evicted and grace < own and self._killed_since(pod, stopping_since)
        try:
            removed = not _remove_pods(self.podman, [name], stopped=True)
            if removed:
                self.removed.add(pod)
            return removed and not outlived
        finally:
            self._remove_volumes(pod)

    def _stop(self, pod: str, grace: int) -> None:
        """`podman pod stop -t grace`: the stop signal, then SIGKILL once grace seconds are over. podman's own
        work comes on top of the grace, so the call gets STOP_MARGIN more; if it is still not done, a look at
        the Pod decides: containers that stopped mean podman was only slow to say so; containers still
        running mean podman itself is stuck (the machine's problem)."""
        argv = [self.podman, "pod", "stop", "--ignore", "-t", str(grace), self._pod(pod)]
        try:
            _run(argv, timeout=grace + STOP_MARGIN)
        except subprocess.TimeoutExpired:
            still = [c["Name"] for c in self._inspected(pod) if (c.get("State") or {}).get("Status") == "running"]
            if still:
                raise InfraError(f"podman did not stop Pod {pod} within {grace + STOP_MARGIN:g} s (its grace of "
                                 f"{grace} s, then SIGKILL): {', '.join(still)} still running",
                                 tried=[" ".join(["podman", *argv[1:]])],
                                 fix="check `podman ps`; run the grader again when the machine is less busy") from None
        except OSError as error:
            raise InfraError(f"podman cannot be run any more ({error.strerror or error}) while trying to stop Pod "
                             f"{pod}", tried=[" ".join(argv)], fix=INSTALL_HINT) from error

    def _killed_since(self, pod: str, since: float) -> bool:
        """True when podman killed a container of the Pod (exit code 137, not the OOM killer) after `since`
        (Unix time): its stop signal had not ended it when the grace was over."""
        for container in self._inspected(pod):
            state = container.get("State") or {}
            if state.get("ExitCode") == SIGKILLED and not state.get("OOMKilled") \
                    and _unix_time(state.get("FinishedAt")) >= since - CLOCK_SLACK:
                return True
        return False

    def _inspected(self, pod: str) -> list[dict[str, Any]]:
        """`podman container inspect` of the Pod's containers as they are now ([] when they are gone)."""
        names = [self._container(pod, c["name"]) for c in self.submitted.get(pod, {}).get("spec", {}).get(
            "containers", [])]
        result = self._inspect_containers(names, pod) if names else None
        return _json(result.stdout) if result is not None and result.returncode == 0 else []

    def leftovers(self) -> list[str]:
        left = []
        result = self._podman("pod", "ps", "--filter", f"label={RUN_LABEL}={self.run_id}",
                              "--format", "{{.Name}}", timeout=30, what="list this run's pods")
        left += [f"podman pod {line}" for line in result.stdout.split()]
        result = self._podman("ps", "--all", "--filter", f"label={RUN_LABEL}={self.run_id}",
                              "--format", "{{.Names}}", timeout=30, what="list this run's containers")
        left += [f"podman container {line}" for line in result.stdout.split()]
        if self.workdir.exists():
            left += [f"directory {path}" for path in self.workdir.glob("*/*/*")]
        left += [f"mount {path}" for path in _mounts_under(self.workdir)]
        return left

    def close(self) -> None:
        self.storage.close()
        self.kubelet.close()
        try:
            _remove_pods(self.podman, [self._pod(name) for name in self.submitted if name not in self.removed])
            self._podman("network", "rm", "--force", self.network, timeout=60, what="remove this run's network")
        finally:
            _remove_workdir(self.workdir)

    # -- helpers ----------------------------------------------------------------------------------
    def volume_folder(self, pod: str, volume: str) -> Path | None:
        """The host folder played as the Pod's emptyDir named `volume` (the grader's side of it)."""
        return self.volumes.get(pod, {}).get(volume)

    def _volume_folder(self, pod: str, index: int, number: int, volume: dict[str, Any]) -> Path:
        """A fresh folder for the number-th volume of the index-th Pod, bounded to its sizeLimit when
        the grader may mount a tmpfs (as root); never named after anything in the YAML."""
        folder = self._inside(self.workdir / "volumes" / f"pod{index}" / f"volume{number}")
        folder.mkdir(parents=True)
        if os.geteuid() == 0:
            size = podman_play.emptydir_size(volume)
            mounted = _run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777,nosuid,nodev",
                            "k8s101-emptydir", str(folder)], timeout=30)
            if mounted.returncode != 0:
                raise InfraError(f"could not bound an emptyDir of Pod {pod}: {mounted.stderr.strip()}",
                                 tried=[f"mount -t tmpfs -o size={size} {folder}"], fix="check `mount` works as root")
        self.volumes.setdefault(pod, {})[str(volume.get("name"))] = folder
        return folder

    def _inside(self, path: Path) -> Path:
        """path, after checking it resolves inside this run's work folder."""
        if not path.resolve().is_relative_to(self.workdir):
            raise InfraError(f"refusing to use {path}: it is outside the run's folder {self.workdir}",
                             fix="report this as a bug of the graders")
        return path

    def _processes(self, pod: str) -> int | None:
        """How many processes the Pod runs now (its cgroup's pids.current), None when unknown."""
        try:
            return int((self.cgroups[pod] / "pids.current").read_text())
        except (KeyError, OSError, ValueError):
            return None

    def _limit_processes(self, pod: str) -> None:
        """Write the pids limit into the Pod's cgroup while it is created and nothing runs yet: every
        container of the Pod, and every command run in one, counts against it. With cgroupfs the
        cgroup exists at creation; a systemd slice may appear only once the infra container runs."""
        for attempt in ("created", "infra started"):
            found = self._podman("pod", "inspect", self._pod(pod), "--format", "{{.CgroupPath}}\t{{.InfraContainerID}}",
                                 timeout=30, what=f"read the cgroup of Pod {pod}")
            cgroup, _, infra = found.stdout.strip().partition("\t")
            if infra:
                self.infra[pod] = infra
            cgroup = cgroup.lstrip("/")
            for candidate in (Path("/sys/fs/cgroup/pids") / cgroup, Path("/sys/fs/cgroup") / cgroup):
                try:
                    (candidate / "pids.max").write_text(str(podman_play.POD_PIDS_LIMIT))
                except OSError:
                    continue
                self.cgroups[pod] = candidate
                self._note(pod, f"pids limit {podman_play.POD_PIDS_LIMIT} ({attempt})")  # no path: the machine's
                self._limit_memory(pod, cgroup)
                return
            if attempt == "created" and infra:
                try:  # its failure shows as the cgroup still missing below
                    _run([self.podman, "start", infra], timeout=30, cwd=self.workdir)
                except (subprocess.TimeoutExpired, OSError):
                    pass
        if os.geteuid() == 0:  # as root it must work: never run unbounded by accident
            _remove_pods(self.podman, [self._pod(pod)])
            raise InfraError(f"could not limit the processes of Pod {pod} (cgroup {cgroup!r})",
                             tried=["/sys/fs/cgroup/pids/<cgroup>/pids.max", "/sys/fs/cgroup/<cgroup>/pids.max"],
                             fix="use podman's cgroupfs or systemd cgroup manager with the pids controller")
        self._note(pod, "no pids limit: the grader is not root and cannot write the Pod's cgroup")

    def _limit_memory(self, pod: str, cgroup: str) -> None:
        """The Pod's memory budget, on its own cgroup: all its containers together, and the tmpfs pages they
        write into its emptyDirs (the kernel charges those to the writer's cgroup), stay within
        POD_MEMORY_LIMIT, as a kubelet's Pod cgroup bounds its containers together (pkg/kubelet/cm,
        pod_container_manager_linux.go: the Pod's limit is the sum of its containers'). Past it, the kernel's
        OOM killer ends a process of the Pod, as on a node."""
        limit = str(podman_play.POD_MEMORY_LIMIT)
        for candidate, name in ((Path("/sys/fs/cgroup/memory") / cgroup, "memory.limit_in_bytes"),
                                (Path("/sys/fs/cgroup") / cgroup, "memory.max")):
            try:
                (candidate / name).write_text(limit)
            except OSError:
                continue
            self._note(pod, f"memory limit {limit} bytes for the whole Pod")  # no path: the machine's
            return
        self._note(pod, "no memory limit for the whole Pod: its cgroup has no memory controller the grader can write")

    def _start(self, name: str, pod: dict[str, Any], timeout: float,
               apply_timeout: float) -> subprocess.CompletedProcess[str] | None:
        """`podman pod start`; None when it did not return in time because an init container never
        finished (the Pod's own failure, as a cluster would show it)."""
        argv = [self.podman, "pod", "start", self._pod(name)]
        try:  # conmon inherits the working folder and writes an `oom` file there: not the student's folder
            return _run(argv, timeout=timeout, cwd=self.workdir)
        except subprocess.TimeoutExpired:
            # A look at the Pod decides whose the time was: an init container still running never finished
            # (the submission's); none running means podman itself was slow or stuck (the machine's).
            waiting = [c.get("name", "") for c in pod["spec"].get("initContainers") or []
                       if self._running(name, c.get("name", ""))]
            _remove_pods(self.podman, [self._pod(name)])
            if not waiting:
                raise InfraError(f"podman did not answer within {timeout:g} s while trying to start Pod {name}",
                                 tried=[" ".join(["podman", *argv[1:]])],
                                 fix="check `podman ps`; raise the timeout with --timeout-apply if the machine "
                                     "is slow") from None
            error = (f"init container {', '.join(waiting)} did not finish within {apply_timeout:g} s: the Pod's "
                     f"containers start only after every init container has exited")
            self._note(name, error)
            self.failed[name] = _failed_state(pod, error, set(), "CreateContainerError")
            return None
        except OSError as error:
            raise InfraError(f"podman cannot be run any more ({error.strerror or error}) while trying to start Pod "
                             f"{name}", tried=[" ".join(argv)], fix=INSTALL_HINT) from error

    def _running(self, pod: str, container: str) -> bool:
        result = self._podman("container", "inspect", "--format", "{{.State.Status}}", self._container(pod, container),
                              timeout=30, what=f"read container {container} of Pod {pod}")
        return result.returncode == 0 and result.stdout.strip() == "running"

    def _remove_volumes(self, pod: str) -> None:
        for folder in self.volumes.pop(pod, {}).values():
            _unmount(folder)
            remove_tree(folder)

    def _image_exists(self, image: str) -> bool:
        return self._podman("image", "exists", image, timeout=30, what="look up an image").returncode == 0

    def _note(self, pod: str, text: str) -> None:
        self.notes.setdefault(pod, []).append(text)

    def _podman(self, *args: str, timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        return _call(self.podman, *args, timeout=timeout, what=what)

    # -- evidence from the grader's side --------------------------------------------------------------
    # kube play ignores readinessProbe: the checks run the probes themselves, as a kubelet would.
    PROBE_IMAGE = "docker.io/library/busybox:1.36"  # the lab's own image: present wherever the lab runs
    MAX_VOLUME_FILES = 100

    def _probe(self, pod: str, script: str, timeout: float, what: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a shell script in a grader-owned, short-lived busybox container that joins the Pod's network
        namespace (and nothing else of it): the student's programs are not involved. About 0.15 s; bounded in time,
        processes and memory; labelled with the run, so leftovers() sees it should --rm ever fail."""
        if pod in self.failed or pod not in self.submitted:
            raise InfraError(f"Pod {pod} is not running, so the grader cannot reach into it",
                             fix="this is a grader bug: checks wait for the Pod first")
        seconds = max(1, int(timeout))
        labels = _label_args(self.labels)  # the run's and its owner's, as on the Pods
        result = self._podman(
            "run", "--rm", "--network", f"ns:{self._network_namespace(pod)}",
            "--name", f"{self._pod(pod)}-grader-{uuid.uuid4().hex[:8]}",
            *labels, "--pids-limit", "32", "--memory", "64m", "--pull", "never", self.PROBE_IMAGE,
            "timeout", str(seconds), "sh", "-c", script, "probe", *args, timeout=seconds + 30, what=what)
        if result.returncode in (125, 126, 127):  # podman's own failure, not the probe's
            raise InfraError(f"podman could not start the grader's probe container to {what}: "
                             f"{_error_text(result.stderr)}",
                             tried=[f"podman run --rm --network ns:(the network of {self._pod(pod)}) "
                                    f"{self.PROBE_IMAGE}"],
                             fix=f"check that `podman image exists {self.PROBE_IMAGE}` and `podman pod ps` work")
        return result

    def _network_namespace(self, pod: str) -> str:
        """The Pod's network namespace, through its infra container. The probe joins only that, not the
        Pod's cgroup: a Pod that used up its own pids limit (a fork bomb) cannot starve the grader's probe.
        (podman 4.3 refuses `--network container:` for a container of a pod.) Remembered while the infra
        process lives (checked by its start time: a PID can be reused)."""
        known = self.namespaces.get(pod)
        if known and _started(known[0]) == known[1]:
            return f"/proc/{known[0]}/ns/net"
        error = ""
        infra = self.infra.get(pod, "")  # known since the Pod was made
        if not infra:
            result = self._podman("pod", "inspect", "--format", "{{.InfraContainerID}}", self._pod(pod), timeout=30,
                                  what=f"find the network of Pod {pod}")
            infra, error = result.stdout.strip(), _error_text(result.stderr) if result.returncode != 0 else ""
        pid = self._podman("inspect", "--format", "{{.State.Pid}}", infra, timeout=30,
                           what=f"find the network of Pod {pod}").stdout.strip() if infra else ""
        if error or not pid.isdigit() or pid == "0":
            raise InfraError(f"podman cannot say where the network of Pod {pod} is: {error}",
                             tried=[f"podman pod inspect {self._pod(pod)}", f"podman inspect {infra or '(no infra)'}"],
                             fix="check `podman pod ps`; run the grader again")
        self.namespaces[pod] = (int(pid), _started(int(pid)))
        return f"/proc/{pid}/ns/net"

    def _in_namespace(self, pod: str) -> str | None:
        """The Pod's network namespace when the grader can enter it itself (root), else None: then a
        probe container goes in instead."""
        if not self.enter_namespaces:
            return None
        if pod in self.failed or pod not in self.submitted:
            raise InfraError(f"Pod {pod} is not running, so the grader cannot reach into it",
                             fix="this is a grader bug: checks wait for the Pod first")
        return self._network_namespace(pod)

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        url = f"http://127.0.0.1:{int(port)}{request_path(path)}"
        namespace = self._in_namespace(pod)
        if namespace:
            try:
                return netns.http_get(namespace, int(port), path, timeout)
            except netns.Unavailable as error:
                self._cannot_enter(pod, error)
        result = self._probe(pod, 'wget -S -O - "$1"', timeout, f"request {url} in Pod {pod}", url)
        return _http_response(result)

    def first_process_status(self, pod: str, container: str, timeout: float) -> str | None:
        """/proc/PID/status of the container's first process, read on the host: no program of the image
        runs (an exec costs 0.2-0.3 s, and the image's `cat` is the student's)."""
        if (pod, container) not in self.pids:
            self.state(pod)
        pid = self.pids.get((pod, container), 0)  # as last read (by the caller's state(), just before)
        if pid <= 0:
            return None
        try:
            return Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None  # it has just exited

    def _cannot_enter(self, pod: str, error: netns.Unavailable) -> None:
        """The namespace could not be entered (a restricted root, say): probe containers from now on."""
        self._note(pod, f"the grader cannot enter the Pod's network itself ({error}); it uses probe containers")
        self.enter_namespaces = False
        self.namespaces.pop(pod, None)

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        namespace = self._in_namespace(pod)
        if namespace:
            try:
                return netns.tcp_open(namespace, int(port), timeout)
            except netns.Unavailable as error:
                self._cannot_enter(pod, error)
        seconds = max(1, int(timeout))
        result = self._probe(pod, f"nc -w {seconds} 127.0.0.1 {int(port)} </dev/null", timeout,
                             f"connect to port {port} in Pod {pod}")
        return (not re.search(r"refused|timed out|can't connect", result.stderr, re.I)
                and result.returncode in (0, 1, 124, 143))

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        """Read on the host, each folder and file opened under its parent's descriptor without following links:
        the Pod may change the volume while the grader reads it (volume_reader.py)."""
        return volume_reader.read_files(str(self._volume_dir(pod, volume)), self.MAX_VOLUME_FILES, MAX_VOLUME_BYTES,
                                        timeout)

    def _volume_dir(self, pod: str, volume: str) -> Path:
        """The host folder the grader made for one of the Pod's emptyDir volumes (it named and mounted it
        itself, so no podman call is needed); it must lie inside this run's work directory."""
        folder = self.volume_folder(pod, volume)
        if folder is None or not folder.is_dir() or not folder.resolve().is_relative_to(self.workdir.resolve()):
            raise InfraError(f"the grader cannot find the folder of volume {volume} of Pod {pod}",
                             tried=[f"the emptyDir folders this run made for Pod {pod}"],
                             fix="only emptyDir volumes played by this grader can be read from the grader's side")
        return folder.resolve()

    def _refuse_native_sidecars(self, pod: dict[str, Any]) -> None:
        """podman 4.3 runs initContainers to completion before the containers: a native sidecar
        (restartPolicy: Always) never completes, so play would hang. Say so at once."""
        sidecars = [c.get("name") for c in pod["spec"].get("initContainers") or []
                    if c.get("restartPolicy") == "Always"]
        if sidecars:
            raise InfraError(
                f"Pod {pod['metadata']['name']} has native sidecar containers ({', '.join(map(str, sidecars))}: "
                f"initContainers with restartPolicy: Always), which podman cannot run: grading it needs "
                f"--backend kind",
                tried=["podman kube play runs initContainers to completion first; a native sidecar never completes"],
                fix=f"run `pytest labs/{self.lab_id} --backend kind` (or --backend context), or make the sidecar an "
                    "ordinary entry of spec.containers")

    def image_digests(self, image: str) -> set[str] | None:
        if image not in self.digests:  # an image's identity does not change during a run
            self.digests[image] = self._image_digests(image)
        return self.digests[image]

    def _image_inspected(self, image: str) -> list[dict[str, Any]]:
        """`podman image inspect`, once per image and run ([] when the machine does not have it)."""
        if image not in self.images:
            result = self._podman("image", "inspect", image, timeout=30, what=f"look up image {image}")
            self.images[image] = _json(result.stdout) if result.returncode == 0 else []
        return self.images[image]

    def running_program(self, pod: str, container: str, image: str, program: str) -> RunningProgram | None:
        """The executable of the container's first process, read on the host (/proc/PID/exe: the file the kernel
        runs, whatever the YAML or a script calls it), against the files named `program` on the image's PATH,
        read from the image's own layers in podman's storage (which no container writes)."""
        if (pod, container) not in self.pids:
            self.state(pod)
        pid = self.pids.get((pod, container), 0)
        own = self._image_programs(image, program)
        if pid <= 0 or own is None:
            return None
        try:
            path = os.readlink(f"/proc/{pid}/exe")
            digest = _sha256(f"/proc/{pid}/exe")
        except OSError:
            return None  # it has just exited: nothing to judge
        return RunningProgram(path=path.removesuffix(" (deleted)"), image_own=digest in own,
                              image_paths=tuple(sorted(set(own.values()))))

    def _image_programs(self, image: str, program: str) -> dict[str, str] | None:
        """sha256 -> path of each file named `program` in a folder of the image's PATH; None when the image's
        layers cannot be read here (not root, another storage driver)."""
        key = (image, program)
        if key not in self.programs:
            self.programs[key] = _programs_in_layers(self._image_inspected(image), program)
        return self.programs[key]

    def _image_digests(self, image: str) -> set[str] | None:
        found: set[str] = set()
        for inspected in self._image_inspected(image):
            found.add(_bare_digest(inspected.get("Id", "")))
            found.add(_bare_digest(inspected.get("Digest", "")))
            found |= {_bare_digest(ref.rsplit("@", 1)[-1]) for ref in inspected.get("RepoDigests") or []}
        return found - {""}

    def node_labels(self) -> dict[str, frozenset[str]] | None:
        return None  # no nodes: kube play ignores nodeSelector (no capability "node-labels")


class KubeletRuntime:
    """What the grader's kubelet (podman_kubelet.py) does to a Pod, through this sandbox: podman for the
    containers, the grader's own side for probes (HTTP and TCP from inside the Pod's network, never a program
    of the student's image; exec in the container, as a kubelet's exec probe runs)."""

    def __init__(self, sandbox: "PodmanSandbox") -> None:
        self.sandbox = sandbox

    def inspect(self, pod: str) -> dict[str, podman_kubelet.Run] | None:
        names = [c["name"] for c in self.sandbox.submitted.get(pod, {}).get("spec", {}).get("containers", [])]
        try:
            found = {c["Name"]: c for c in self.sandbox._inspected(pod)}
        except InfraError:
            return None
        return {name: _run_of(found[self.sandbox._container(pod, name)]) for name in names
                if self.sandbox._container(pod, name) in found}

    def start(self, pod: str, container: str) -> str:
        name = self.sandbox._container(pod, container)
        try:  # conmon inherits the working folder and writes an `oom` file there: not the student's folder
            result = _run([self.sandbox.podman, "start", name], timeout=60, cwd=self.sandbox.workdir)
        except (subprocess.TimeoutExpired, OSError) as error:
            return f"podman did not start {container} again: {error}"
        return "" if result.returncode == 0 else _error_text(result.stderr)

    def stop(self, pod: str, container: str, grace: int) -> None:
        """The kill of a container whose liveness or startup probe failed: its stop signal, SIGKILL after grace."""
        argv = [self.sandbox.podman, "stop", "--ignore", "-t", str(grace), self.sandbox._container(pod, container)]
        try:
            _run(argv, timeout=grace + STOP_MARGIN)
        except (subprocess.TimeoutExpired, OSError) as error:
            self.note(pod, f"could not kill container {container}: {error}")

    def note(self, pod: str, text: str) -> None:
        self.sandbox._note(pod, text)

    def probe(self, pod: str, container: str, probe: kubelet.Probe) -> tuple[bool | None, str]:
        """One try of a liveness or startup probe, in the kubelet's words (pkg/probe/http, tcp, exec); None
        when the grader could not try it (podman's trouble, not the container's): the kubelet throws such a
        result away."""
        containers = self.sandbox.submitted.get(pod, {}).get("spec", {}).get("containers", [])
        spec: dict[str, Any] = next((c for c in containers if c.get("name") == container), {})
        try:
            return probe_once(self.sandbox, pod, container, spec, probe)
        except InfraError:
            return None, ""


def probe_once(sandbox: "PodmanSandbox", pod: str, container: str, spec: dict[str, Any],
               probe: kubelet.Probe) -> tuple[bool, str]:
    """Try a probe once from the grader's side: (succeeded, why not in the kubelet's words)."""
    if probe.handler == "exec":
        command = [str(arg) for arg in (probe.spec.get("exec") or {}).get("command") or []]
        result = sandbox.exec(pod, container, command, timeout=probe.timeout)
        if result.timed_out:
            return False, f"command {' '.join(command)[:200]!r} timed out"
        output = (result.stdout + result.stderr).strip()[-200:]
        return result.exit_code == 0, output or f"command exited with code {result.exit_code}"
    action = probe.spec.get(probe.handler) or {}
    port = kubelet.probe_port(spec, action.get("port") if isinstance(action, dict) else None)
    if isinstance(port, str):
        return False, port
    if probe.handler == "httpGet":
        path = str(action.get("path") or "/")
        url = f"http://127.0.0.1:{port}{request_path(path)}"
        response = sandbox.http_get(pod, port, path, timeout=probe.timeout)
        if response.status is not None:
            return 200 <= response.status < 400, f"HTTP probe failed with statuscode: {response.status}"
        if "refused" in response.error.lower():
            return False, f'Get "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused'
        if "timed out" in response.error:
            return False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        return False, f'Get "{url}": {response.error}'
    if sandbox.tcp_open(pod, port, timeout=probe.timeout):
        if probe.handler == "grpc":  # the grader speaks no gRPC: neither image of the labs serves its health check
            return False, f"failed to connect service \"127.0.0.1:{port}\": not a gRPC health server"
        return True, ""
    return False, f"dial tcp 127.0.0.1:{port}: connect: connection refused"


def _call(podman: str, *args: str, timeout: float, what: str, limit: int = PODMAN_OUTPUT_LIMIT,
          keep: str = "head") -> subprocess.CompletedProcess[str]:
    """Run podman; InfraError when it hangs or cannot be run (its own failures are the caller's to read)."""
    try:
        return _run([podman, *args], timeout=timeout, limit=limit, keep=keep)
    except subprocess.TimeoutExpired:
        raise InfraError(f"podman did not answer within {timeout:g} s while trying to {what}",
                         tried=[" ".join(["podman", *args])],
                         fix="check `podman ps`; raise the timeout with --timeout-* if the machine is slow") from None
    except OSError as error:
        raise InfraError(f"podman cannot be run any more ({error.strerror or error}) while trying to {what}",
                         tried=[" ".join([podman, *args])], fix=INSTALL_HINT) from error


def _remove_pods(podman: str, names: list[str], timeout: float = 60, attempts: int = 3,
                 stopped: bool = False, stuck: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Stop at once and remove pods with their containers; missing ones are fine. `pod rm --force` can
    return while a crash-looping container restarts and keeps its pod: such pods are removed again.
    Returns the pods still there after the last attempt.
    Stopped first: podman 4.3's `pod rm --force -t 0` of a running pod takes 3.4 s, `pod stop -t 0` and then
    `pod rm` 0.3 s (measured with busybox `sleep`; two pods: 3.7 s against 0.5 s). `stopped`: the caller
    has just stopped them. `stuck`: pods with a container stuck in "stopping", which `pod stop` waits for
    forever and only `pod rm --force` removes (see _stuck_stopping)."""
    for attempt in range(attempts):
        if not names:
            break
        stoppable = [name for name in names if name not in stuck]
        if stoppable and (attempt or not stopped):
            try:
                _call(podman, "pod", "stop", "--ignore", "-t", "0", *stoppable, timeout=timeout, what="stop pods")
            except InfraError:  # a container stuck in "stopping" (_stuck_stopping): `pod rm --force` removes it,
                pass  # and a podman that answers nothing at all times out there too
        _call(podman, "pod", "rm", "--force", "--ignore", "-t", "0", *names, timeout=timeout, what="remove pods")
        names = [name for name in names
                 if _call(podman, "pod", "exists", name, timeout=30, what="look up a pod").returncode == 0]
    return names


def _stuck_stopping(pod: dict[str, Any]) -> bool:
    """A pod (as `pod ps --format json` lists it) with a container in podman's "stopping" state. When the
    `podman stop` that set it and the container's conmon are both killed (a grading run and its podman
    children killed at once, a machine shut down mid-run), podman 4.3 keeps the state for good: `pod stop`
    then waits without end (seen: 100 s, spinning), `pod rm --force -t 0` kills and removes it in 3.5 s.
    Fixed upstream after 4.3: podman-container-tools/podman pull request 23089, "Ensure that containers do
    not get stuck in stopping" (issues 19629 and 11274)."""
    return any(container.get("Status") == "stopping" for container in pod.get("Containers") or [])


def _json(text: str) -> list[dict[str, Any]]:
    try:
        return json.loads(text or "[]")
    except ValueError as error:
        raise InfraError(f"podman printed something that is not JSON: {error}",
                         fix="check `podman version`") from error


def _run(argv: list[str], timeout: float, limit: int = PODMAN_OUTPUT_LIMIT, keep: str = "head",
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A program's run with its output bounded (each stream at most `limit` bytes) and its time too."""
    return bounded.run(argv, timeout=timeout, limit=limit, keep=keep, cwd=cwd)


def _exit_race(stderr: str) -> bool:
    """podman read a /proc file of a process that exited meanwhile: nothing is wrong, the state just changed."""
    return "no such process" in stderr and "/proc/" in stderr


def _strip_noise(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(NOISE))


def _error_text(stderr: str) -> str:
    lines = [line.strip() for line in _strip_noise(stderr).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return " | ".join(errors or lines[-3:]) or "no error output"


# Where podman keeps its configuration, storage and cgroups: files of the machine that grades, which a student
# can neither see nor change. A cluster's status for the same mistake names none of them: the kubelet's waiting
# message for ErrImagePull is the runtime's error, and its event "Failed to pull image ...", each about the image
# (kubernetes/kubernetes, pkg/kubelet/images/image_manager.go); podman's short-name error also names
# /etc/containers/registries.conf. Paths inside a container (`rootfs at "/etc/nginx"`) are the student's and stay.
PODMAN_CONFIGURATION = re.compile(r'"?(?:/etc/containers|/usr/share/containers|(?:/root|/home/[^/\s"]+)/\.config/'
                                  r'containers)/[^\s",;:]*"?')
MACHINE_PATHS = re.compile(r'"?(?:/var/lib/containers|/var/run/containers|/run/containers|/run/libpod|/sys/fs/cgroup)'
                           r'(?:/[^\s",;:]*)?"?')


def without_machine_paths(error: str, workdir: Path) -> str:
    """A start failure the submission caused, without the grading machine's files (the run's own folder included)."""
    text = re.sub(rf'"?{re.escape(str(workdir))}(?:/[^\s",;:]*)?"?', "a folder of the grader's", error)
    text = PODMAN_CONFIGURATION.sub("podman's configuration", text)
    return MACHINE_PATHS.sub("a folder of podman's", text)


def _failed_state(pod: dict[str, Any], error: str, missing_images: set[str], reason: str,
                  only: set[str] | None = None) -> PodState:
    """The status a kubelet would show for a Pod whose containers podman could not start: an image
    problem is the reason of the containers whose image is missing; other containers wait (as do all but
    `only`, when given: the containers the error is about)."""
    image_problem = reason in ("ErrImagePull", "InvalidImageName")

    def blamed(container: dict[str, Any]) -> bool:
        if only is not None:
            return container.get("name") in only
        return not image_problem or container.get("image", "") in missing_images or not missing_images

    containers = tuple(
        ContainerState(name=c.get("name", ""), image=c.get("image", ""), running=False, ready=False,
                       reason=reason if blamed(c) else "ContainerCreating", message=error if blamed(c) else "")
        for c in pod["spec"].get("containers", []))
    return PodState(name=pod["metadata"]["name"], phase="Pending",
                    labels=dict(pod["metadata"].get("labels") or {}), spec=pod["spec"], containers=containers)


# What a cluster would show too, caused by the submission: these are the student's failures. Anything
# else podman says when it cannot start a Pod (pause image, catatonit, storage, runtime, rlimits,
# cgroups, networks) is the machine's: an InfraError, no points lost.
STUDENT_ERRORS = (
    (r"invalid reference format|repository name must be", "InvalidImageName"),
    (r"short-name|pinging container registry|initializing source|manifest unknown|image not known|"
     r"reading manifest|unable to pull|no such image", "ErrImagePull"),
    (r"executable file not found|exec: \"[^\"]*\": (no such file or directory|permission denied|is a directory)|"
     r"memory limit too low|minimum memory limit", "RunContainerError"),
    (r"init container \S+ exited with code", "CrashLoopBackOff"),
    (r"not a directory|did not finish within", "CreateContainerError"),
)
# Podman's own machinery, even when its message also says "executable file not found" (catatonit).
MACHINE_ERRORS = (r"pause image|pause binary|catatonit|conmon|rlimit|cgroups? |hybrid mode|overlay|storage|"
                  r"no space left|runtime \"?\w+\"? not found|netavark|\bcni\b|slirp|database|\block")
MACHINE_FIXES = (
    ("catatonit|pause",
     "install catatonit (Debian: apt-get install catatonit), which podman needs for its pause image"),
    ("newuidmap|newgidmap", "install uidmap (Debian: apt-get install uidmap)"),
    ("setrlimit|rlimit|hybrid mode", "point CONTAINERS_CONF at scripts/podman/containers.conf (runc, low ulimits)"),
)


# The submission's even though the message names podman's storage (runc's refusal quotes the container's
# rootfs under /var/lib/containers/storage/overlay): a mount inside /proc (runc libcontainer/rootfs_linux.go,
# checkProcMount), which any node's runc refuses too.
# A memory limit below what the container already uses when runc sets it (opencontainers/runc
# libcontainer/cgroups/fs/memory.go, setMemory: EBUSY from the kernel), named "cgroup config" in runc's words:
# the grader's own limit is never lower than 512 MiB, so only the student's (`64m` is 64 millibytes, one byte once
# rounded up) can be refused so; any node's runc refuses it too, and the kubelet reports a start that failed as
# RunContainerError (kubernetes/kubernetes pkg/kubelet/container/sync_result.go, ErrRunContainer).
STUDENT_FIRST = ((r"cannot be mounted because it is inside /proc", "RunContainerError"),
                 (r"unable to set memory limit to \d+", "RunContainerError"))


def _reason_for(error: str) -> str | None:
    """The kubelet's reason for a start failure the submission caused; None for the machine's own."""
    for pattern, reason in STUDENT_FIRST:
        if re.search(pattern, error, re.I):
            return reason
    if re.search(MACHINE_ERRORS, error, re.I):
        return None
    for pattern, reason in STUDENT_ERRORS:
        if re.search(pattern, error, re.I):
            return reason
    return None


def _machine_fix(error: str) -> str:
    return next((fix for pattern, fix in MACHINE_FIXES if re.search(pattern, error, re.I)), MACHINE_FIX)


# -- owners of killed runs ----------------------------------------------------------------------------
def owner_labels() -> dict[str, str]:
    """Who runs this grader: host, boot, PID and the PID's start time (a PID can be reused), and the session
    it belongs to when the process that started it names one (SESSION_VARIABLE: a re-grade, a test session),
    so that such a session can tell its own objects from those of other runs on the same machine."""
    pid = os.getpid()
    owner = dict(zip(OWNER_LABELS, (socket.gethostname(), _boot_id(), str(pid), _started(pid)), strict=True))
    session = os.environ.get(SESSION_VARIABLE, "")
    if re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", session):  # a valid label value, or none
        owner[SESSION_LABEL] = session
    return owner


def owner_gone(labels: dict[str, str]) -> bool:
    """True only when the owner ran on this host since its last boot and its process is gone."""
    owner = _local_owner(labels)
    return owner is not None and not _still_runs(*owner)


def owner_alive(labels: dict[str, str]) -> bool:
    """True only when the owner runs on this host since its last boot and its process still runs: its
    resources are in use however old they are (a long run, or parallel runs with a short --reap-after)."""
    owner = _local_owner(labels)
    return owner is not None and _still_runs(*owner)


def _still_runs(pid: int, started: str) -> bool:
    """The process with this PID runs and started when the owner's did (a PID can be reused)."""
    return started != "" and _started(pid) == started


def _local_owner(labels: dict[str, str]) -> tuple[int, str] | None:
    """(PID, its start time) of an owner that ran on this host since its last boot; None otherwise (another
    host or boot, or no owner labels: nothing about its process can be known here)."""
    host, boot, pid, started = (labels.get(key, "") for key in OWNER_LABELS)
    if not (host and boot and pid.isdigit()) or host != socket.gethostname() or boot != _boot_id():
        return None
    return int(pid), started


def _owner_file(workdir: Path) -> dict[str, str]:
    """The owner a run wrote into its work folder; {} when none was written (the age rule decides)."""
    try:
        labels = json.loads((workdir / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _age(pid: int) -> float:
    """Seconds since the process started (0 when it cannot be read)."""
    try:
        started = int(_started(pid)) / os.sysconf("SC_CLK_TCK")
        return float(Path("/proc/uptime").read_text().split()[0]) - started
    except (OSError, ValueError):
        return 0.0


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' when no such process runs)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2:].split()[19]  # field 22, counted after the command name


def _label_args(labels: dict[str, str]) -> list[str]:
    return [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]


# -- the run's folder -----------------------------------------------------------------------------------
def _mounts_under(folder: Path) -> list[str]:
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    prefix = f"{folder}/"
    points = [line.split()[1].replace("\\040", " ") for line in lines if len(line.split()) > 1]
    return sorted((point for point in points if point.startswith(prefix)), reverse=True)


def _unmount(folder: Path) -> None:
    for point in _mounts_under(folder) + ([str(folder)] if str(folder) in _mount_points() else []):
        _run(["umount", "-l", point], timeout=30)


def _mount_points() -> set[str]:
    try:
        return {line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines() if len(line.split()) > 1}
    except OSError:
        return set()


def _remove_workdir(workdir: Path) -> None:
    """Unmount the tmpfs volumes first: removing the files would empty them and leave them mounted."""
    _unmount(workdir)
    remove_tree(workdir)


def remove_tree(folder: Path) -> None:
    """Remove a folder whatever a Pod wrote into it: shutil.rmtree recurses once per level and raises
    RecursionError (not an OSError, so ignore_errors lets it through) on a tree a container made thousands
    of folders deep, which then broke every later run's reaping. `rm -rf` walks any depth and follows no link."""
    try:
        _run(["rm", "-rf", "--", str(folder)], timeout=120)
    except (subprocess.TimeoutExpired, OSError):
        pass  # what is left is reaped by a later run, by its owner or its age


def _mounting(pod: dict[str, Any], error: str) -> set[str] | None:
    """The containers that mount a volume where runc refused to mount one (`... to rootfs at "/proc/logs"`):
    the failure is theirs, the others would start; None when the error names no mount."""
    found = re.search(r'to rootfs at "([^"]+)"', error)
    if not found:
        return None
    return {str(c.get("name")) for c in pod["spec"].get("containers", [])
            if any(isinstance(m, dict) and str(m.get("mountPath", "")).rstrip("/") == found.group(1).rstrip("/")
                   for m in c.get("volumeMounts") or [])} or None


def _evicted_state(pod: dict[str, Any], message: str) -> PodState:
    """A Pod the grader evicted, as a kubelet shows one: phase Failed, every container stopped, reason Evicted."""
    containers = tuple(ContainerState(name=c.get("name", ""), image=c.get("image", ""), running=False, ready=False,
                                      reason="Evicted", message=message) for c in pod["spec"].get("containers", []))
    return PodState(name=pod["metadata"]["name"], phase="Failed", labels=dict(pod["metadata"].get("labels") or {}),
                    spec=pod["spec"], containers=containers)


def _container_state(spec: dict[str, Any], inspected: dict[str, Any] | None,
                     record: podman_kubelet.Record | None, policy: str) -> ContainerState:
    """A container as a kubelet reports it: restarts, the back-off and the probes' verdict are the grader's
    kubelet's (podman_kubelet.py), which starts containers again; podman plays every Pod with restartPolicy Never."""
    name, image = spec.get("name", ""), spec.get("image", "")
    if inspected is None:
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    state = inspected.get("State", {})
    status = state.get("Status", "")
    restarts = record.restarts if record is not None else int(inspected.get("RestartCount", 0) or 0)
    exit_code = state.get("ExitCode")
    live = record.live if record is not None else True
    if status == "running":
        return ContainerState(name, image, running=True, ready=record.started if record is not None else True,
                              restarts=restarts, exit_code=exit_code if restarts else None, live=live)
    if status in ("created", "configured", "initialized"):
        return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason="ContainerCreating")
    message = f"exited with code {exit_code}" + (f": {state['Error']}" if state.get("Error") else "")
    if record is not None and record.reason:  # held by the back-off (CrashLoopBackOff), or a start that failed
        return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason=record.reason,
                              message=record.message, exit_code=exit_code, live=live)
    if record is None and kubelet.restarts(policy, exit_code):  # not the grader's kubelet's: read as before
        return ContainerState(name, image, running=False, ready=False, restarts=max(restarts, 1),
                              reason="CrashLoopBackOff", message=message, exit_code=exit_code)
    reason = "OOMKilled" if state.get("OOMKilled") else "Completed" if exit_code == 0 else "Error"
    return ContainerState(name, image, running=False, ready=False, restarts=restarts, reason=reason, message=message,
                          exit_code=exit_code, live=live)


def _run_of(inspected: dict[str, Any]) -> podman_kubelet.Run:
    """One run of a container, from `podman container inspect`, for the grader's kubelet."""
    state = inspected.get("State") or {}
    began = str(state.get("StartedAt") or "")
    return podman_kubelet.Run(status=str(state.get("Status") or ""), pid=int(state.get("Pid") or 0),
                              began="" if began.startswith("0001-") else began, began_at=max(0.0, _unix_time(began)),
                              finished_at=max(0.0, _unix_time(state.get("FinishedAt"))),
                              exit_code=state.get("ExitCode"), oom=bool(state.get("OOMKilled")))


def _phase(containers: tuple[ContainerState, ...], policy: str) -> str:
    if all(c.running for c in containers):
        return "Running"
    if policy != "Always" and all(c.reason in ("Completed", "Error") for c in containers):
        return "Succeeded" if all(c.reason == "Completed" for c in containers) else "Failed"
    if any(c.running or c.restarts for c in containers):
        return "Running"
    return "Pending"


def _unix_time(stamp: Any) -> float:
    """podman's RFC 3339 time (`2026-12-03T07:33:22.808120146Z`, nanoseconds) as Unix time; 0 when it is
    missing or unreadable. Parsed here: Python 3.10's fromisoformat takes neither `Z` nor 9 digits."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", str(stamp or ""))
    if not found:
        return 0.0
    whole, fraction, zone = found.groups()
    when = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return when.timestamp() + float(f"0.{fraction or 0}")


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # a runtime's, for an image without
MAX_PROGRAM_BYTES = 256 * 1024**2  # an executable hashed at most this far


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
            if file.tell() > MAX_PROGRAM_BYTES:
                break
    return digest.hexdigest()


def _programs_in_layers(inspected: list[dict[str, Any]], program: str) -> dict[str, str] | None:
    """sha256 -> path in the image of each regular file named `program` in a folder of the image's PATH, as
    the image's overlay layers hold it (the upper layer first); None when no layer folder can be read. No
    link is followed: a folder that is a link in the image (/sbin -> usr/sbin) would lead into the host's."""
    if not inspected:
        return None
    image = inspected[0]
    data = (image.get("GraphDriver") or {}).get("Data") or {}
    layers = [folder for folder in [data.get("UpperDir") or "", *str(data.get("LowerDir") or "").split(":")] if folder]
    if not layers or not all(os.path.isdir(folder) for folder in layers):
        return None
    env = dict(item.partition("=")[::2] for item in (image.get("Config") or {}).get("Env") or [])
    found: dict[str, str] = {}
    for folder in (env.get("PATH") or DEFAULT_PATH).split(":"):
        inside = f"{folder.rstrip('/')}/{program}"
        for layer in layers:
            candidate, parts = Path(layer), [part for part in inside.split("/") if part]
            try:
                for part in parts:
                    candidate = candidate / part
                    info = candidate.lstat()
                    if stat.S_ISLNK(info.st_mode):
                        raise FileNotFoundError(candidate)
            except OSError:
                continue  # not in this layer (or behind a link): the next one down may hold it
            if stat.S_ISREG(info.st_mode):
                found[_sha256(str(candidate))] = inside
            break  # the uppermost layer that has the path decides
    return found


def _bare_digest(ref: str) -> str:
    return ref.rsplit("@", 1)[-1].removeprefix("sha256:")


def _http_response(result: subprocess.CompletedProcess[str]) -> HttpResponse:
    """busybox wget -S: the status line among the headers on stderr, the body on stdout."""
    statuses = re.findall(r"^\s*HTTP/[\d.]+ (\d{3})", result.stderr, re.M)
    if statuses:
        return HttpResponse(status=int(statuses[-1]), body=result.stdout)
    if result.returncode in (124, 143):
        return HttpResponse(status=None, error="no answer: the request timed out")
    errors = [line.removeprefix("wget: ") for line in _strip_noise(result.stderr).splitlines()
              if line.startswith("wget:")]
    return HttpResponse(status=None, error=errors[-1] if errors else f"no answer (exit status {result.returncode})")
