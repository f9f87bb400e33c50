"""Pods become Running and Ready, and run the image a lab asks for (judged by what really runs).

What a Pod's spec must say is the rubric's, as data: graders.checks.expect.spec_matches."""

from __future__ import annotations

import posixpath
import time
from typing import Any, Callable, Mapping, TypeVar

from graders.capabilities import READINESS_PROBES
from graders import images
from graders.backends.base import ContainerState, PodState
from graders.checks.diagnostics import FATAL_REASONS, describe, details, fatal_hint
from graders.errors import CheckFailed, InfraError
from graders.run import LabRun
from graders.waiting import NoAnswer, NotYet, until

STABLE_AFTER_RESTART = 1.5  # seconds a restarted container must stay up to count as running
# A container in CrashLoopBackOff may settle (a sidecar following a file that another container has not
# created yet exits once, backs off ~10 s, then runs): it is a verdict only once it restarted this often,
# or crash-looped this long. The kubelet's back-off (10 s, 20 s, 40 s) gives a real crash loop 3 restarts
# within ~60 s.
CRASH_RESTARTS = 3
CRASH_WINDOW = 60.0
PULLING = "PullingImage"  # the kube backend's waiting reason for a pull that failed transiently (429, timeout)
NOT_STARTED = ("ContainerCreating", "PodInitializing")  # not created yet (PodInitializing: it has init containers)


def pod_containers(spec: Mapping[str, Any]) -> list[dict]:
    """The containers of a Pod for every check: its containers and its native sidecars (initContainers
    with restartPolicy: Always, Kubernetes 1.29+), which run alongside them for the Pod's whole life."""
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    return list(spec.get("containers") or []) + sidecars


T = TypeVar("T")


def deadline(run: LabRun, pod: str) -> float:
    """One readiness deadline per Pod (time.monotonic()), shared by every check that waits for it."""
    return run.memo.setdefault(("deadline", pod), time.monotonic() + run.timeouts.ready)


def until_answered(run: LabRun, pod: str, port: int, probe: Callable[[], T]) -> T:
    """until(probe) for requests to the Pod's port, within the exec timeout. A port where nothing answered
    through one check's whole wait (the probe's last word was NoAnswer) gets a single try from the checks
    after it: its server had its time to start, and waiting again would only delay the verdict."""
    silent = ("silent", pod, str(port))
    try:
        return until(probe, timeout=0 if silent in run.memo else run.timeouts.exec)
    except NoAnswer:
        run.memo[silent] = True
        raise


def wait_running(run: LabRun, pod: str) -> PodState:
    """Wait until every container of the Pod runs and is Ready; remembered for the later checks.

    Fails at once on a state that cannot improve (ErrImagePull, CrashLoopBackOff, ...).
    """
    return remembered(run, ("running", pod), lambda: _wait_running(run, pod))


def remembered(run: LabRun, key: tuple[str, str], wait: Callable[[], PodState]) -> PodState:
    """The outcome of a wait, computed once per run: later checks of the Pod get the same state, or the
    same failure, without waiting again."""
    if key not in run.memo:
        try:
            run.memo[key] = wait()
        except CheckFailed as failure:
            run.memo[key] = failure
    outcome = run.memo[key]
    if isinstance(outcome, CheckFailed):
        raise outcome
    return outcome


def running_container(run: LabRun, pod: str, container: str) -> PodState:
    """Wait for the Pod to run, and fail at once when it has no container of that name."""
    state = wait_running(run, pod)
    if state.container(container) is None:
        raise CheckFailed(
            expected=f"a container named {container} in Pod {pod}",
            observed=f"the Pod's containers are named {', '.join(c.name for c in state.containers)}",
            hint="container names are part of the task: rename yours in the YAML")
    return state


def _wait_running(run: LabRun, pod: str) -> PodState:
    run.require(pod)
    crashing_since: dict[str, float] = {}
    unready: dict[str, str] = {}  # container -> why its readinessProbe (run by the grader) fails

    def probe() -> PodState:
        state = run.sandbox.state(pod)
        if state is None:  # it was created: only something outside the grader removes it
            raise _disappeared(run, pod)
        _fail_on_fatal(run, pod, state, crashing_since)
        if state.phase == "Running" and all(c.running and c.ready for c in state.containers):
            unready.clear()
            unready.update(_readiness(run, pod, state))
            if not unready:
                return state
            raise NotYet(describe(state) + "; " + "; ".join(
                f"container {name}: running, not Ready (readinessProbe: {why})" for name, why in unready.items()))
        raise NotYet(describe(state))

    while True:
        try:
            state = until(probe, timeout=max(0.0, deadline(run, pod) - time.monotonic()))
        except NotYet as last:
            _still_pulling(run, pod)
            raise CheckFailed(
                expected=f"Pod {pod} Running with all containers Ready within {run.timeouts.ready:g} s",
                observed=last.observed,
                hint=("a readinessProbe that never succeeds keeps the container out of Ready: check its port, "
                      "path and command" if unready else
                      f"`kubectl describe pod {pod}` shows why it is stuck; slow machine? raise --timeout-ready"),
                details=details(run, pod)) from None
        if not any(c.restarts for c in state.containers):
            return state
        stable = _stable(run, pod, state, crashing_since)
        if stable is not None:
            return stable  # else it crashed again but may still settle: wait for it as the kubelet does


def _readiness(run: LabRun, pod: str, state: PodState) -> dict[str, str]:
    """Where the backend ignores readinessProbe (podman), run each probe once as a kubelet would:
    exec in the container, httpGet and tcpSocket from the grader's side. Container -> why it failed."""
    if READINESS_PROBES in run.capabilities:  # a kubelet ran them: the containers' ready flags say it
        return {}
    failing: dict[str, str] = {}
    timeout = run.timeouts.exec
    for container in pod_containers(state.spec):
        probe = container.get("readinessProbe")
        if not probe:
            continue
        name = container.get("name", "")
        if "exec" in probe:
            failing.update(_exec_probe(run, pod, name, probe))
            continue
        if "httpGet" not in probe and "tcpSocket" not in probe:
            continue
        get = probe.get("httpGet") or probe.get("tcpSocket") or {}
        port = _port(container, get.get("port"))
        if isinstance(port, str):
            failing[name] = port
        elif "httpGet" in probe:
            path = str(get.get("path") or "/")
            response = run.sandbox.http_get(pod, port, path, timeout=timeout)
            if response.status is None or not 200 <= response.status < 400:
                failing[name] = f"httpGet :{port}{path}: {response.error or f'HTTP {response.status}'}"
        elif not run.sandbox.tcp_open(pod, port, timeout=timeout):
            failing[name] = f"tcpSocket :{port}: nothing accepts connections"
    return failing


def _exec_probe(run: LabRun, pod: str, name: str, probe: Mapping[str, Any]) -> dict[str, str]:
    """An exec probe, given its own timeoutSeconds (1 when unset, as the API server defaults it): a command
    still running then is a failed probe, as a kubelet's prober counts it (k8s.io/kubernetes
    pkg/probe/exec/exec.go: a TimeoutError is probe.Failure with the ExecProbeTimeout gate, on since 1.20)."""
    command = [str(arg) for arg in (probe["exec"] or {}).get("command") or []]
    if not command:
        return {name: "exec has no command"}
    seconds = probe.get("timeoutSeconds")
    seconds = seconds if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0 else 1
    result = run.sandbox.exec(pod, name, command, timeout=seconds)
    if result.timed_out:
        return {name: f"exec did not finish within its timeoutSeconds ({seconds} s)"}
    if result.exit_code != 0:
        return {name: f"exec exited with code {result.exit_code}"}
    return {}


def _port(container: Mapping[str, Any], port: Any) -> int | str:
    """A probe's port: a number, or the name of one of the container's ports; a text saying why the probe
    fails when it names none, or a number outside 1-65535 (k8s.io/kubernetes pkg/probe/util.go
    ResolveContainerPort: the kubelet fails such a probe with an error)."""
    named = {p.get("name"): p.get("containerPort") for p in container.get("ports") or [] if isinstance(p, dict)}
    number = named.get(port, port)
    if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 65535:
        return number
    if isinstance(port, str) and port not in named:
        return f"the probe's port {port!r} names none of the container's ports"
    return f"the probe's port {number!r} is not a port number (1-65535)"


def _still_pulling(run: LabRun, pod: str) -> None:
    """At the deadline, a Pod whose images are still being pulled is the cluster's slowness (or a
    registry's rate limit), not the student's fault."""
    state = run.sandbox.state(pod)
    if state is None:
        return
    events = run.sandbox.events(pod)
    pulling_event = any("Pulling" in e for e in events) and not any("Pulled" in e for e in events)
    waiting = [c for c in (*state.init_containers, *state.containers)
               if c.reason == PULLING or (c.reason in NOT_STARTED and pulling_event)]
    if waiting:
        images = ", ".join(sorted({c.image for c in waiting}))
        raise InfraError(
            f"the cluster is still pulling {images} after {run.timeouts.ready:g} s (Pod {pod})",
            tried=[f"{c.name}: {c.reason} {c.message}".strip() for c in waiting] + events[-3:],
            fix="run again (the image is cached once pulled); on a slow or rate-limited network raise "
                "--timeout-ready")


def _stable(run: LabRun, pod: str, state: PodState, crashing_since: dict[str, float]) -> PodState | None:
    """A container that already restarted must stay up a moment: it may be crash-looping. None when it
    crashed again but is still within the crash-loop rule (CRASH_RESTARTS restarts, CRASH_WINDOW s)."""
    time.sleep(STABLE_AFTER_RESTART)
    later = run.sandbox.state(pod)
    if later is None:
        raise _disappeared(run, pod)
    for before in state.containers:
        after = later.container(before.name)
        if after is None or not after.running or after.restarts != before.restarts:
            if after is not None and not _crash_loop_settled(after, crashing_since) \
                    and time.monotonic() < deadline(run, pod):
                return None
            raise _crash_loop(run, pod, after or before)
    return later


def _crash_loop(run: LabRun, pod: str, container: ContainerState) -> CheckFailed:
    """One verdict for a container that keeps exiting, whether the check saw it restarted or backing off:
    which of the two it sees depends on the moment it looks, and one mistake must read the same every time
    (a re-grade's summary groups students by it)."""
    code = f" (exit code {container.exit_code})" if container.exit_code is not None else ""
    return CheckFailed(
        expected=f"container {container.name} of Pod {pod} (image {container.image}) to keep running",
        observed=f"container {container.name}: CrashLoopBackOff: it keeps exiting{code} and being restarted",
        hint=fatal_hint(run, pod, container, "CrashLoopBackOff"),
        details=details(run, pod, [container.name]))


def _disappeared(run: LabRun, pod: str) -> InfraError:
    return InfraError(f"Pod {pod} disappeared after it was created: something outside the grader deleted it",
                      tried=[f"reading Pod {pod} in {run.sandbox.description}"],
                      fix="do not delete the grader's Pods while it runs; run it again")


def _fail_on_fatal(run: LabRun, pod: str, state: PodState, crashing_since: dict[str, float]) -> None:
    policy = state.spec.get("restartPolicy", "Always")
    # an ordinary init container first: while it cannot start or keeps failing, the containers only say
    # PodInitializing, and the init container's own reason is the verdict (kubectl shows Init:ErrImagePull)
    for kind, container in [*(("init container", c) for c in state.init_containers),
                            *(("container", c) for c in state.containers)]:
        if container.reason == "CrashLoopBackOff" and not _crash_loop_settled(container, crashing_since):
            continue  # it may still settle: give it the time a kubelet's back-off takes
        if container.reason == "CrashLoopBackOff":
            raise _crash_loop(run, pod, container)
        if container.reason in FATAL_REASONS:
            exited = f" (exit code {container.exit_code})" if container.exit_code is not None else ""
            raise CheckFailed(
                expected=f"{kind} {container.name} of Pod {pod} (image {container.image}) to "
                         + ("run to completion" if kind == "init container" else "start"),
                observed=f"{kind} {container.name}: {container.reason}: {container.message}".rstrip(": ")
                         + exited,
                hint=fatal_hint(run, pod, container, container.reason),
                details=details(run, pod, [container.name]))
        if kind == "init container":
            continue  # one that finished did its work; one that failed for good makes the Pod Failed
        if _finished_for_good(container, policy):
            raise CheckFailed(
                expected=f"container {container.name} of Pod {pod} to keep running",
                observed=f"container {container.name} has finished ({container.reason}, exit code "
                         f"{container.exit_code}) and restartPolicy: {policy} will not restart it",
                hint="a server or a sidecar must run a long-lived command; restartPolicy Never or OnFailure "
                     "leaves a finished container finished",
                details=details(run, pod, [container.name]))
    if state.phase in ("Succeeded", "Failed"):
        raise CheckFailed(
            expected=f"Pod {pod} to keep running",
            observed=f"the Pod has finished ({describe(state)})",
            hint="the containers' commands exited; a Pod for a server or a sidecar must run a long-lived "
                 "command",
            details=details(run, pod))


def _crash_loop_settled(container: ContainerState, crashing_since: dict[str, float]) -> bool:
    """True once a CrashLoopBackOff is a verdict: enough restarts, or crash-looping for long enough."""
    first = crashing_since.setdefault(container.name, time.monotonic())
    return container.restarts >= CRASH_RESTARTS or time.monotonic() - first >= CRASH_WINDOW


def _finished_for_good(container: ContainerState, policy: str) -> bool:
    """A terminated container that its Pod's restartPolicy will not restart: nothing can change."""
    if container.running or container.exit_code is None or container.reason not in (
            "Completed", "Error", "Terminated", "OOMKilled", "ContainerCannotRun"):
        return False
    return policy == "Never" or (policy == "OnFailure" and container.exit_code == 0)


def no_foreign_digest(run: LabRun, pod: str, container: str, image: str) -> None:
    """Before waiting (such a Pod may never start): a digest pinned on the lab's image must be that image's
    own, where the backend knows it; another image's digest decides what runs, whatever the tag says."""
    run.require(pod)
    spec = next((c for c in pod_containers(run.submission.pods[pod]["spec"]) if c.get("name") == container), {})
    pinned = _foreign_digest(run, spec, image)
    if pinned:
        raise CheckFailed(expected=f"container {container} of Pod {pod} to run the image {image}",
                          observed=pinned, hint=IDENTITY_HINT.format(image=image))


IDENTITY_HINT = "write the image as the README does ({image}), with no @sha256 digest of another image"


def _foreign_digest(run: LabRun, container: Mapping[str, Any], image: str) -> str:
    """What is wrong with a digest pinned on the lab's image ('' when nothing): where the backend knows
    the lab image's identity, a digest that is not its own names another image."""
    written = str(container.get("image", ""))
    if "@" not in written:
        return ""
    known = run.sandbox.image_digests(_qualified(image))
    pinned = _bare(written.split("@", 1)[1])
    if known is None or pinned in known:
        return ""
    return (f"the image {written!r} pins the digest {pinned[:12]}…, which is not {image}'s: the digest, not "
            f"the tag, decides what runs")


def runs_lab_image(run: LabRun, pod: str, container: str, image: str, program: str | None) -> None:
    """The container really runs the lab's image (by identity, not by its name: a tag pinned with another
    image's digest runs that other image) and, when `program` is given, runs that program: the image's
    own command, or an explicit command or args starting with it. Remembered per container."""
    key = ("identity", pod, container, image, program)
    if key not in run.memo:
        run.memo[key] = _identity_problem(run, pod, container, image, program)
    problem = run.memo[key]
    if problem:
        raise CheckFailed(
            expected=f"container {container} of Pod {pod} to run the image {image}"
                     + (f" and its program {program}" if program else ""),
            observed=problem,
            hint=IDENTITY_HINT.format(image=image)
                 + (f"; leave out command and args, or start them with {program}" if program else ""))


def _identity_problem(run: LabRun, pod: str, container: str, image: str, program: str | None) -> str:
    state = wait_running(run, pod)
    spec = next((c for c in pod_containers(state.spec) if c.get("name") == container), {})
    running = state.container(container)
    known = run.sandbox.image_digests(_qualified(image))
    if known is not None:  # the backend knows the lab image's digests (podman's store, the cluster's node)
        pinned = _foreign_digest(run, spec, image)
        if pinned:
            return pinned
        # judged by digest only: a cluster names an image loaded with `kind load` import-YYYY-MM-DD@sha256:…
        # (kind #4184), under any repository name; a bare image ID is compared only where IDs are known
        if running is not None and running.image_id and images.same_image(running.image_id, known) is False:
            return (f"container {container} runs {images.describe(running.image_id)}, which is not {image} "
                    f"({', '.join(sorted(d[:12] for d in known)) or 'not on this machine'})")
    if program:
        return _program_problem(run, pod, container, spec, image, program)
    return ""


def _program_problem(run: LabRun, pod: str, container: str, spec: Mapping[str, Any], image: str, program: str) -> str:
    """The program that runs, judged from the grader's side: the command's first word must be the program, not
    a file of one of the Pod's volumes (which the Pod wrote itself: an init container can copy anything there
    under any name), and, where the backend sees the container's first process (podman: /proc/PID/exe on the
    host), its executable must be the image's own file of that name. A cluster shows the grader no process:
    there the command's words are all it judges (graders/backends/kube.py running_program)."""
    argv = list(spec.get("command") or spec.get("args") or [])
    if argv and posixpath.basename(str(argv[0])) != program:
        shown = (" ".join(map(str, argv)).strip().splitlines() or [""])[0][:80]
        return (f"container {container} runs `{shown}` instead of {program} (its "
                f"{'command' if spec.get('command') else 'args'} field replaces the image's own command)")
    mounted = _volume_of(spec, str(argv[0])) if argv and spec.get("command") else None
    if mounted:
        return (f"container {container} runs {argv[0]}, a file of volume {mounted}, which the Pod wrote itself, "
                f"not the image's own {program}")
    seen = run.sandbox.running_program(pod, container, _qualified(image), program)
    if seen is not None and not seen.image_own:
        where = ", ".join(seen.image_paths) or "a file the image does not have"
        return (f"container {container}'s first process runs {seen.path}, which is not {image}'s own {program} "
                f"({where}): the file decides what runs, not its name")
    return ""


def _volume_of(spec: Mapping[str, Any], path: str) -> str | None:
    """The volume a container mounts where `path` lies (its mountPath or below), None when the path is the image's."""
    for mount in spec.get("volumeMounts") or []:
        where = str(mount.get("mountPath", "")).rstrip("/") if isinstance(mount, dict) else ""
        if where and posixpath.normpath(path).startswith(where + "/"):
            return str(mount.get("name"))
    return None


def _bare(digest: str) -> str:
    """sha256:abc…, repo@sha256:abc… and abc… name the same image."""
    found = images.identity(digest)
    return found.digest if found else digest.rsplit("@", 1)[-1].removeprefix("sha256:")


def _qualified(image: str) -> str:
    """nginx:1.25 -> docker.io/library/nginx:1.25, as the images are named on a machine (no digest)."""
    return images.qualified(images.familiar(image))


def normalize_image(image: str) -> str:
    """nginx:1.25, docker.io/nginx:1.25 and docker.io/library/nginx:1.25 are the same image (graders/images.py)."""
    return images.familiar(image)
