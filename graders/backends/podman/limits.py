"""What bounds a Pod on podman, where no default limit applies: a pids limit and a memory budget on the Pod's
cgroup, written before any container starts (each container's own memory, CPU and log bounds are in the played
copy, play.py), and the writable layer watched: past its ephemeral-storage limit the Pod is evicted, as a
kubelet does (storage_watch.py)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from graders.backends.podman import cli, procs
from graders.backends.podman.cleanup import remove_pods
from graders.backends.podman.play import POD_MEMORY_LIMIT, POD_PIDS_LIMIT
from graders.backends.podman.run import PodmanRun
from graders.backends.podman.storage_watch import EPHEMERAL_STORAGE_LIMIT
from graders.errors import InfraError

PIDS_SPARE = 8  # processes conmon and runc need to start one command in a Pod


class Limits:
    def __init__(self, run: PodmanRun) -> None:
        self.run = run
        self.cgroups: dict[str, Path] = {}  # student's Pod -> its pids cgroup folder

    def bound(self, pod: str) -> None:
        """Write the pids limit into the Pod's cgroup while it is created and nothing runs yet: every
        container of the Pod, and every command run in one, counts against it. With cgroupfs the
        cgroup exists at creation; a systemd slice may appear only once the infra container runs."""
        run = self.run
        for attempt in ("created", "infra started"):
            found = run.call("pod", "inspect", run.pod(pod), "--format", "{{.CgroupPath}}\t{{.InfraContainerID}}",
                             timeout=30, what=f"read the cgroup of Pod {pod}")
            cgroup, _, infra = found.stdout.strip().partition("\t")
            if infra:
                run.infra[pod] = infra
            cgroup = cgroup.lstrip("/")
            for candidate in (Path("/sys/fs/cgroup/pids") / cgroup, Path("/sys/fs/cgroup") / cgroup):
                try:
                    (candidate / "pids.max").write_text(str(POD_PIDS_LIMIT))
                except OSError:
                    continue
                self.cgroups[pod] = candidate
                run.note(pod, f"pids limit {POD_PIDS_LIMIT} ({attempt})")  # no path: the machine's
                self._limit_memory(pod, cgroup)
                return
            if attempt == "created" and infra:
                try:  # its failure shows as the cgroup still missing below
                    cli.run([run.podman, "start", infra], timeout=30, cwd=run.workdir)
                except (subprocess.TimeoutExpired, OSError):
                    pass
        if os.geteuid() == 0:  # as root it must work: never run unbounded by accident
            remove_pods(run.podman, [run.pod(pod)])
            raise InfraError(f"could not limit the processes of Pod {pod} (cgroup {cgroup!r})",
                             tried=["/sys/fs/cgroup/pids/<cgroup>/pids.max", "/sys/fs/cgroup/<cgroup>/pids.max"],
                             fix="use podman's cgroupfs or systemd cgroup manager with the pids controller")
        run.note(pod, "no pids limit: the grader is not root and cannot write the Pod's cgroup")

    def _limit_memory(self, pod: str, cgroup: str) -> None:
        """The Pod's memory budget, on its own cgroup: all its containers together, and the tmpfs pages they
        write into its emptyDirs (the kernel charges those to the writer's cgroup), stay within
        POD_MEMORY_LIMIT, as a kubelet's Pod cgroup bounds its containers together (pkg/kubelet/cm,
        pod_container_manager_linux.go: the Pod's limit is the sum of its containers'). Past it, the kernel's
        OOM killer ends a process of the Pod, as on a node."""
        limit = str(POD_MEMORY_LIMIT)
        for candidate, name in ((Path("/sys/fs/cgroup/memory") / cgroup, "memory.limit_in_bytes"),
                                (Path("/sys/fs/cgroup") / cgroup, "memory.max")):
            try:
                (candidate / name).write_text(limit)
            except OSError:
                continue
            self.run.note(pod, f"memory limit {limit} bytes for the whole Pod")  # no path: the machine's
            return
        self.run.note(pod, "no memory limit for the whole Pod: its cgroup has no memory controller the grader can "
                           "write")

    def processes(self, pod: str) -> int | None:
        """How many processes the Pod runs now (its cgroup's pids.current), None when unknown."""
        try:
            return int((self.cgroups[pod] / "pids.current").read_text())
        except (KeyError, OSError, ValueError):
            return None

    def exhausted(self, pod: str, stderr: str) -> str | None:
        """Why a command could not start in the Pod when the Pod itself used up its pids limit (the submission's,
        as on a cluster); None when podman failed otherwise."""
        if not re.search(r"resource temporarily unavailable|cannot run conmon", stderr, re.I):
            return None
        used = self.processes(pod)
        if used is None or used < POD_PIDS_LIMIT - PIDS_SPARE:
            return None
        return (f"no command can start in Pod {pod}: it already runs {used} processes, the limit "
                f"of {POD_PIDS_LIMIT} for a whole Pod here (a cluster limits them too)")

    def processes_running(self, pod: str) -> list[int]:
        """The host PIDs of every process in the Pod's cgroup: its containers', their commands' and conmons'."""
        cgroup = self.cgroups.get(pod)
        return [pid for found in (cgroup.rglob("cgroup.procs") if cgroup else []) for pid in procs.pids_in(found)]

    def kill_containers(self, pod: str) -> None:
        """SIGKILL every process of the Pod's containers (their libpod-* cgroups; conmon and podman's own are left
        to podman), read on the host."""
        cgroup = self.cgroups.get(pod)
        for found in (cgroup.glob("libpod-*/cgroup.procs") if cgroup else []):
            for pid in procs.pids_in(found):
                procs.kill(pid)


def eviction(container: str, used: int) -> str:
    """Why the grader evicted a Pod whose container passed its ephemeral-storage limit, as a kubelet would."""
    limit = EPHEMERAL_STORAGE_LIMIT
    return (f"the Pod was evicted: container {container} wrote more than {limit // 2**20} MiB into its own filesystem "
            f"(its writable layer, outside any volume: {used // 2**20} MiB or more), the ephemeral-storage limit "
            f"each container gets here, as a LimitRange's default would give it on a cluster, where the kubelet "
            f"evicts a Pod whose container passes its limit")
