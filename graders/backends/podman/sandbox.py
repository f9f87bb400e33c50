"""PodmanSandbox: one lab run's Pods on podman. It plays each Pod (play.py builds the copy podman plays), bounds
it (limits.py), starts it, reads it as a kubelet reports it (state.py), runs commands in it (commands.py), takes
evidence from the grader's side (evidence.py, images.py, host.py) and deletes it as a cluster would; its
kubelet (kubelet.py, through runtime.py) restarts and probes the containers. What all of them share is the run's
record (run.py)."""

from __future__ import annotations

import copy
import itertools
import subprocess
import time
from typing import Any

import yaml

from graders.backends.base import RUN_LABEL, ExecResult, HttpResponse, PodState, RunningProgram, run_labels
from graders.backends.podman import cli, host, play, state
from graders.backends.podman.classification import (
    MACHINE_FIX, error_text, machine_fix, mounting, reason_for, without_machine_paths)
from graders.backends.podman.cleanup import remove_pods
from graders.backends.podman.commands import exec_in
from graders.backends.podman.evidence import PodNetwork, first_process_status
from graders.backends.podman.images import Images
from graders.backends.podman.kubelet import Kubelet
from graders.backends.podman.limits import Limits, eviction
from graders.backends.podman.owners import owner_labels
from graders.backends.podman.run import PodmanRun
from graders.backends.podman.runtime import KubeletRuntime
from graders.backends.podman.storage_watch import Watcher
from graders.errors import InfraError

KUBERNETES_DEFAULT_GRACE = 30


class PodmanSandbox:
    def __init__(self, podman: str, lab_id: str, run_id: str) -> None:
        self.started_at = time.time()
        labels = {**run_labels(run_id, self.started_at), **owner_labels()}
        self.run = PodmanRun(podman, run_id, lab_id, labels, host.make_workdir(run_id, labels),
                             network=f"{host.WORKDIR_PREFIX}{run_id}")
        self.description = f"podman pods labelled {RUN_LABEL}={run_id}"
        self.volumes = host.Volumes(self.run.workdir)
        self.limits = Limits(self.run)
        self.images = Images(self.run)
        self.pod_network = PodNetwork(self.run)  # the grader's requests into a Pod's network
        self.storage = Watcher(self._evict)  # the containers' writable layers
        self.kubelet = Kubelet(KubeletRuntime(self))  # restarts with back-off; liveness, startup probes
        self.numbers = itertools.count(1)  # Pods are applied from parallel threads: next() is atomic
        created = self.run.call("network", "create", "--internal", *cli.label_args(labels), self.run.network,
                                timeout=60, what="create this run's network")
        if created.returncode != 0:
            host.remove_tree(self.run.workdir)
            info = self.run.call("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=30,
                                 what="check that podman works")
            if info.returncode != 0:
                raise InfraError("podman is installed but does not work",
                                 tried=[f"podman info: {error_text(info.stderr)}"], fix=cli.INSTALL_HINT)
            raise InfraError(f"podman could not create a network for this run: {error_text(created.stderr)}",
                             tried=[f"podman network create --internal {self.run.network}"], fix=MACHINE_FIX)

    # -- Sandbox ----------------------------------------------------------------------------------
    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        """Create the Pod stopped, bound its processes, then start it (init containers first)."""
        if pod.get("kind", "Pod") != "Pod":  # the capability check stops such a lab before it gets here
            raise InfraError(f"podman runs Pods only, not {pod.get('kind')} {pod['metadata']['name']}",
                             fix="use --backend kind (or --backend context)")
        run = self.run
        deadline = time.monotonic() + timeout
        name = pod["metadata"]["name"]
        self._refuse_native_sidecars(pod)
        run.submitted[name] = copy.deepcopy(pod)
        index = next(self.numbers)  # file and folder names come from the grader, never from the YAML
        played = host.inside(run.workdir, run.workdir / f"pod{index}.yaml")
        try:
            playable = play.playable(pod, run.pod(name), run.labels,
                                     lambda number, volume: self.volumes.make(name, index, number, volume))
        except play.TooLong as too_long:  # no node could start it: the container's start fails, as there
            container, _, where = too_long.where.partition(": ")
            message = (f"after $(VAR) expansion, {where} of {container} would be longer than {too_long.limit} bytes, "
                       f"the most Linux passes to a program it starts (execve: argument list too long)")
            run.note(name, message)
            self.volumes.remove(name)
            run.failed[name] = state.failed_state(pod, message, set(), "RunContainerError",
                                                  only={container.removeprefix("container ")})
            return
        played.write_text(yaml.safe_dump(playable))
        result = run.call("kube", "play", "--start=false", "--network", run.network, "--log-driver", "k8s-file",
                          "--log-opt", f"max-size={play.LOG_MAX_SIZE}", str(played),
                          timeout=timeout, what=f"create Pod {name}")
        run.note(name, f"podman kube play: exit {result.returncode}")
        if result.returncode == 0:
            self.limits.bound(name)
            started = self._start(name, pod, max(1.0, deadline - time.monotonic()), timeout)
            if started is None:
                return  # a Pod that cannot start: its state says why
            result = started
            run.note(name, f"podman pod start: exit {result.returncode}")
            if result.returncode == 0:
                self.kubelet.add(name, run.submitted[name]["spec"])
                return
        error = error_text(result.stderr)
        remove_pods(run.podman, [run.pod(name)])
        reason = reason_for(error)
        if reason is None:
            run.note(name, error)
            raise InfraError(f"podman could not start Pod {name} for a reason of the machine's, not of your YAML: "
                             f"{error}", tried=[f"podman kube play {played}"], fix=machine_fix(error))
        shown = without_machine_paths(error, run.workdir)  # the submission's failure: in a cluster's terms
        run.note(name, shown)
        missing = {c.get("image", "") for c in pod["spec"].get("containers", [])
                   if not self.images.exists(c.get("image", ""))}
        run.failed[name] = state.failed_state(pod, shown, missing, reason, only=mounting(pod, error))

    def state(self, pod: str) -> PodState | None:
        return state.pod_state(self.run, pod, self.kubelet, self.storage)

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        return exec_in(self.run, self.limits, pod, container, argv, timeout)

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        if pod in self.run.failed:
            return ""
        result = cli.call(self.run.podman, "logs", "--tail", str(tail), self.run.container(pod, container),
                          timeout=30, what=f"read the logs of {container}", limit=cli.LOG_READ_LIMIT, keep="tail")
        return result.stdout + cli.strip_noise(result.stderr) if result.returncode == 0 else ""

    def events(self, pod: str) -> list[str]:
        return list(self.run.notes.get(pod, []))

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        """A Pod as submitted, while it exists (podman keeps no Kubernetes object); no other kind exists here."""
        found = self.state(name) if kind == "Pod" else None
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": found.labels},
                "spec": found.spec} if found else None

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        run = self.run
        self.storage.forget(pod)
        self.kubelet.forget(pod)  # a Pod being deleted is neither restarted nor probed any more
        if pod in run.failed:  # nothing runs: podman removed it when the play failed
            del run.failed[pod]
            self.volumes.remove(pod)
            return True
        if grace_seconds is None:  # kube play ignores terminationGracePeriodSeconds; honour it here
            grace_seconds = run.submitted.get(pod, {}).get("spec", {}).get(
                "terminationGracePeriodSeconds", KUBERNETES_DEFAULT_GRACE)
        name, own = run.pod(pod), int(grace_seconds)
        grace = max(0, min(own, int(timeout) - 1))  # a grace beyond the timeout fails like kind
        stopping_since = time.time()
        self._stop(pod, grace)
        # The verdict comes from what happened to the Pod, never from how long podman took (a busy machine
        # makes podman slow, not the student's Pod): a container that podman had to kill when a grace cut to
        # the timeout ended was still running at the deadline, where a cluster, granting the whole grace,
        # still shows the Pod.
        # An evicted Pod was killed by the grader's kubelet moments ago (_evict): podman may write those
        # containers' FinishedAt only now, inside the window, and nothing of the Pod ran on to outlive a delete.
        outlived = pod not in run.evicted and grace < own and state.killed_since(run, pod, stopping_since)
        try:
            removed = not remove_pods(run.podman, [name], stopped=True)
            if removed:
                run.removed.add(pod)
            return removed and not outlived
        finally:
            self.volumes.remove(pod)

    def leftovers(self) -> list[str]:
        left = []
        result = self.run.call("pod", "ps", "--filter", f"label={RUN_LABEL}={self.run.run_id}",
                               "--format", "{{.Name}}", timeout=30, what="list this run's pods")
        left += [f"podman pod {line}" for line in result.stdout.split()]
        result = self.run.call("ps", "--all", "--filter", f"label={RUN_LABEL}={self.run.run_id}",
                               "--format", "{{.Names}}", timeout=30, what="list this run's containers")
        left += [f"podman container {line}" for line in result.stdout.split()]
        return left + host.leftovers(self.run.workdir)

    def close(self) -> None:
        self.storage.close()
        self.kubelet.close()
        try:
            remove_pods(self.run.podman, [self.run.pod(name) for name in self.run.submitted
                                          if name not in self.run.removed])
            self.run.call("network", "rm", "--force", self.run.network, timeout=60, what="remove this run's network")
        finally:
            host.remove_workdir(self.run.workdir)

    # -- evidence from the grader's side: nothing here runs a program of the student's image ------------------
    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        return self.pod_network.http_get(pod, port, path, timeout)

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        return self.pod_network.tcp_open(pod, port, timeout)

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        return self.volumes.files(pod, volume, timeout)

    def first_process_status(self, pod: str, container: str, timeout: float) -> str | None:
        return first_process_status(self._pid(pod, container))

    def running_program(self, pod: str, container: str, image: str, program: str) -> RunningProgram | None:
        return self.images.running_program(self._pid(pod, container), image, program)

    def image_digests(self, image: str) -> set[str] | None:
        return self.images.identities(image)

    def node_labels(self) -> dict[str, frozenset[str]] | None:
        return None  # no nodes: kube play ignores nodeSelector (no capability "node-labels")

    # -- helpers ----------------------------------------------------------------------------------
    def _pid(self, pod: str, container: str) -> int:
        """The host PID of the container's first process, as the last state() read it (read now if never)."""
        if (pod, container) not in self.run.pids:
            self.state(pod)
        return self.run.pids.get((pod, container), 0)

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
                fix=f"run `pytest labs/{self.run.lab_id} --backend kind` (or --backend context), or make the sidecar "
                    "an ordinary entry of spec.containers")

    def _start(self, name: str, pod: dict[str, Any], timeout: float,
               apply_timeout: float) -> subprocess.CompletedProcess[str] | None:
        """`podman pod start`; None when it did not return in time because an init container never
        finished (the Pod's own failure, as a cluster would show it)."""
        run = self.run
        argv = [run.podman, "pod", "start", run.pod(name)]
        try:  # conmon inherits the working folder and writes an `oom` file there: not the student's folder
            return cli.run(argv, timeout=timeout, cwd=run.workdir)
        except subprocess.TimeoutExpired:
            # A look at the Pod decides whose the time was: an init container still running never finished
            # (the submission's); none running means podman itself was slow or stuck (the machine's).
            waiting = [c.get("name", "") for c in pod["spec"].get("initContainers") or []
                       if self._running(name, c.get("name", ""))]
            remove_pods(run.podman, [run.pod(name)])
            if not waiting:
                raise cli.no_answer(timeout, f"start Pod {name}", argv[1:],
                                    fix="check `podman ps`; raise the timeout with --timeout-apply if the machine "
                                        "is slow") from None
            error = (f"init container {', '.join(waiting)} did not finish within {apply_timeout:g} s: the Pod's "
                     f"containers start only after every init container has exited")
            run.note(name, error)
            run.failed[name] = state.failed_state(pod, error, set(), "CreateContainerError")
            return None
        except OSError as error:
            raise cli.cannot_run(error, f"start Pod {name}", argv) from error

    def _running(self, pod: str, container: str) -> bool:
        result = self.run.call("container", "inspect", "--format", "{{.State.Status}}",
                               self.run.container(pod, container), timeout=30,
                               what=f"read container {container} of Pod {pod}")
        return result.returncode == 0 and result.stdout.strip() == "running"

    def _stop(self, pod: str, grace: int) -> None:
        """`podman pod stop -t grace`: the stop signal, then SIGKILL once grace seconds are over. podman's own
        work comes on top of the grace, so the call gets STOP_MARGIN more; if it is still not done, a look at
        the Pod decides: containers that stopped mean podman was only slow to say so; containers still
        running mean podman itself is stuck (the machine's problem)."""
        argv = [self.run.podman, "pod", "stop", "--ignore", "-t", str(grace), self.run.pod(pod)]
        try:
            cli.run(argv, timeout=grace + cli.STOP_MARGIN)
        except subprocess.TimeoutExpired:
            still = [c["Name"] for c in state.inspected(self.run, pod)
                     if (c.get("State") or {}).get("Status") == "running"]
            if still:
                raise InfraError(f"podman did not stop Pod {pod} within {grace + cli.STOP_MARGIN:g} s (its grace of "
                                 f"{grace} s, then SIGKILL): {', '.join(still)} still running",
                                 tried=[" ".join(["podman", *argv[1:]])],
                                 fix="check `podman ps`; run the grader again when the machine is less busy") from None
        except OSError as error:
            raise cli.cannot_run(error, f"stop Pod {pod}", argv) from error

    def _evict(self, pod: str, container: str, used: int) -> None:
        """What a kubelet does with a Pod whose container passed its ephemeral-storage limit: stop it at once
        (grace 0); its phase is Failed, its reason Evicted (storage_watch.py). Called by the watcher's thread."""
        self.run.evicted[pod] = eviction(container, used)
        self.run.note(pod, self.run.evicted[pod])
        self.kubelet.forget(pod)  # an evicted Pod's containers are never started again
        self.limits.kill_containers(pod)  # at once: `pod stop` takes seconds on a busy machine, a writer 1 GB a second
        try:
            self.run.call("pod", "stop", "--ignore", "-t", "0", self.run.pod(pod), timeout=60,
                          what=f"evict Pod {pod}")
        except InfraError as error:
            self.run.note(pod, f"could not stop it: {error.problem}")
