"""Pods become Running and Ready, and run the image a lab asks for (judged by what really runs).

What a Pod's spec must say is the rubric's, as data: graders.checks.expect.spec_matches."""

from __future__ import annotations

import posixpath
import time
from typing import Any, Callable, Mapping, TypeVar

from graders import capabilities, images
from graders.backends.base import ContainerState, PodState
from graders.checks import probes
from graders.checks.diagnostics import FATAL_REASONS, describe, details, fatal_hint
from graders.errors import CheckFailed, InfraError
from graders.run import LabRun
from graders.run_state import Wait
from graders.waiting import NoAnswer, NotYet, until

STABLE_AFTER_RESTART = 1.5  # seconds a restarted container must stay up to count as running
# A crash loop is a verdict once the container has ended CRASH_EXITS times, or crash-looped CRASH_WINDOW seconds.
# The kubelet starts a container again at once after its first end, then 10 s after its second
# (graders/kubelet.py): a sidecar that exits twice (following a file or a port of another container that is not
# there yet) and then runs is Ready, as on a cluster, while one that keeps exiting is judged at its third end.
CRASH_EXITS = 3
CRASH_WINDOW = 60.0
PULLING = "PullingImage"  # the kube backend's waiting reason for a pull that failed transiently (429, timeout)
NOT_STARTED = ("ContainerCreating", "PodInitializing")  # not created yet (PodInitializing: it has init containers)
# Labels every Linux node carries, whatever the cluster: what a nodeSelector is judged on where the backend
# has no nodes to list (podman, which ignores nodeSelector; no capability "node-labels"). Anything else is
# treated as matching no node, which is what a one-node test cluster does with it.
NODE_LABELS: dict[str, frozenset[str]] = {"kubernetes.io/os": frozenset({"linux"}),
                                          "kubernetes.io/arch": frozenset({"amd64", "arm64"})}


def pod_containers(spec: Mapping[str, Any]) -> list[dict]:
    """The containers of a Pod for every check: its containers and its native sidecars (initContainers
    with restartPolicy: Always, Kubernetes 1.29+), which run alongside them for the Pod's whole life."""
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    return list(spec.get("containers") or []) + sidecars


T = TypeVar("T")


def deadline(run: LabRun, pod: str) -> float:
    """One readiness deadline per Pod (time.monotonic()), shared by every check that waits for it."""
    return run.state.pod(pod).deadline(run.timeouts.ready)


def until_answered(run: LabRun, pod: str, port: int, probe: Callable[[], T]) -> T:
    """until(probe) for requests to the Pod's port, within the exec timeout. A port where nothing answered
    through one check's whole wait (the probe's last word was NoAnswer) gets a single try from the checks
    after it: its server had its time to start, and waiting again would only delay the verdict."""
    known = run.state.pod(pod)
    try:
        return until(probe, timeout=0 if known.is_silent(port) else run.timeouts.exec)
    except NoAnswer:
        known.mark_silent(port)
        raise


def wait_started(run: LabRun, pod: str) -> PodState:
    """Wait until every container of the Pod runs, its liveness and startup probes judged as the kubelet judges
    them (Ready or not: `kubectl exec` and a request to the Pod's port work on a running, unready Pod).

    Fails at once on a nodeSelector no node matches (the Pod would stay Pending) and on a state that cannot
    improve (ErrImagePull, a crash loop, a container the kubelet keeps killing...). Remembered for later checks."""
    return remembered(run, pod, Wait.STARTED, lambda: _wait(run, pod, ready=False))


def wait_running(run: LabRun, pod: str) -> PodState:
    """Wait until every container of the Pod runs and is Ready; remembered for the later checks.

    A readinessProbe still failing once the kubelet has had its tries, for a reason that waiting does not
    change, is a verdict then (graders/checks/probes.py), not at the readiness deadline."""
    return remembered(run, pod, Wait.READY, lambda: _wait(run, pod, ready=True))


class PointsTo(CheckFailed):
    """A failure whose cause another check said in full: one line that points to it."""

    cause: CheckFailed


def remembered(run: LabRun, pod: str, wait_for: Wait, wait: Callable[[], PodState]) -> PodState:
    """The outcome of a wait, computed once per run: later checks of the Pod get the same state, or the
    same failure, without waiting again: in full in the first check it stops, in one line in the others."""
    known = run.state.pod(pod)
    outcome = known.outcome(wait_for)
    if outcome is None:
        try:
            outcome = wait()
        except PointsTo as pointer:
            outcome = pointer.cause
        except CheckFailed as failure:
            outcome = failure
        known.remember(wait_for, outcome)
    if isinstance(outcome, CheckFailed):
        # The same failure, word for word: the report shows it in full under the first check it stops and
        # points to it from the others (graders/report.py FailureBlocks); a check that fails for another
        # reason because of it (unanswered) names it with because().
        run.state.said_by(outcome)
        raise outcome
    return outcome


def because(run: LabRun, failure: CheckFailed) -> CheckFailed:
    """A failure with one cause, as the check being graded reports it: the first check it stops says it in full,
    each later one says it in one line and where to read it (run.state.check: the plugin names the check),
    keeping the hint, which names the cause where the observed state names only its symptom (a crash loop
    because a command replaced the image's own); the logs and events stay with the first."""
    if isinstance(failure, PointsTo):
        return failure
    check = run.state.check
    said = run.state.said_by(failure)
    if not check or said == check:
        return failure
    pointer = PointsTo(expected=failure.expected, observed=f"{failure.headline} (said in full under {said} above)",
                       hint=failure.hint)
    pointer.cause = failure
    return pointer


def running_container(run: LabRun, pod: str, container: str) -> PodState:
    """Wait for the Pod's containers to run (Ready or not), and fail at once when it has no container of that name."""
    state = wait_started(run, pod)
    if state.container(container) is None:
        raise CheckFailed(
            expected=f"a container named {container} in Pod {pod}",
            observed=f"the Pod's containers are named {', '.join(c.name for c in state.containers)}",
            hint="container names are part of the task: rename yours in the YAML")
    return state


def unmatched_node_selector(pod_spec: Mapping[str, Any],
                            node_labels: Mapping[str, frozenset[str]] = NODE_LABELS) -> dict[str, Any]:
    """The nodeSelector entries that no node is known to carry (node_labels: key -> values)."""
    selector = pod_spec.get("nodeSelector") or {}
    return {key: value for key, value in selector.items() if str(value) not in node_labels.get(key, ())}


def node_labels(run: LabRun) -> Mapping[str, frozenset[str]]:
    """The labels of the backend's nodes where it can list them (read once a run), else NODE_LABELS."""
    if capabilities.NODE_LABELS not in run.capabilities:
        return NODE_LABELS
    return run.state.node_labels(lambda: run.sandbox.node_labels() or NODE_LABELS)


def _wait(run: LabRun, pod: str, ready: bool) -> PodState:
    run.require(pod)
    if ready:
        wait_started(run, pod)  # its failure is the Pod's, said once
    else:
        _scheduled(run, pod)
    crashing_since: dict[str, float] = {}
    unready: dict[str, str] = {}  # container -> why it is not Ready

    def probe() -> PodState:
        state = run.sandbox.state(pod)
        if state is None:  # it was created: only something outside the grader removes it
            raise _disappeared(run, pod)
        try:
            _fail_on_fatal(run, pod, state, crashing_since)
            if state.phase != "Running" or not all(c.running for c in state.containers):
                raise NotYet(describe(state))
            for container in state.containers:
                probes.running_since(run, pod, container)
            probes.judge_liveness(run, pod, state, CRASH_EXITS)
        except CheckFailed as fatal:
            if ready:  # a state that cannot improve (evicted, crash-looping...) after the containers had started:
                # the checks that need the Pod only running get this failure, not the stale "started"
                run.state.pod(pod).remember(Wait.STARTED, getattr(fatal, "cause", fatal))
            raise
        if ready:
            unready.clear()
            unready.update(probes.unready(run, pod, state))
            if unready:
                raise NotYet(describe(probes.not_ready(state, unready)))
        return state

    while True:
        try:
            state = until(probe, timeout=max(0.0, deadline(run, pod) - time.monotonic()))
        except NotYet as last:
            _still_pulling(run, pod)
            raise CheckFailed(
                expected=f"Pod {pod} Running" + (" with all containers Ready" if ready else "")
                         + f" within {run.timeouts.ready:g} s",
                observed=last.observed,
                hint=(probes.READINESS_HINT if unready else
                      f"`kubectl describe pod {pod}` shows why it is stuck; slow machine? raise --timeout-ready"),
                details=details(run, pod)) from None
        if not any(c.restarts for c in state.containers):
            return state
        stable = _stable(run, pod, state, crashing_since)
        if stable is not None:
            return stable  # else it crashed again but may still settle: wait for it as the kubelet does


def _scheduled(run: LabRun, pod: str) -> None:
    """A nodeSelector that no node matches keeps the Pod Pending for ever: a verdict before any wait."""
    unmatched = unmatched_node_selector(run.submission.pods[pod]["spec"], node_labels(run))
    if unmatched:
        wanted = ", ".join(f"{key}={value}" for key, value in unmatched.items())
        raise CheckFailed(
            expected=f"Pod {pod} scheduled onto a node",
            observed=f"the Pod stays Pending: its nodeSelector asks for a node labelled {wanted}, and no node "
                     f"has that label (the scheduler says: 0/1 nodes are available: 1 node(s) didn't match "
                     f"Pod's node affinity/selector)",
            hint="a nodeSelector must name labels your nodes really have (`kubectl get nodes --show-labels`); "
                 "every Linux node has kubernetes.io/os=linux")


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
    crashed again but is still within the crash-loop rule (CRASH_EXITS ends, CRASH_WINDOW s)."""
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
    """True once a crash loop is a verdict: the container ended CRASH_EXITS times (its runs so far, the one
    that ended included), or crash-looped for CRASH_WINDOW seconds."""
    first = crashing_since.setdefault(container.name, time.monotonic())
    ended = container.restarts + (0 if container.running else 1)
    return ended >= CRASH_EXITS or time.monotonic() - first >= CRASH_WINDOW


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
    own command, or an explicit command or args starting with it. Remembered per container; said in full
    by the first check it fails, in one line by the others."""
    failure = identity_failure(run, pod, container, image, program)
    if failure is not None:
        raise because(run, failure)


def identity_failure(run: LabRun, pod: str, container: str, image: str | None,
                     program: str | None) -> CheckFailed | None:
    """What is wrong with what the container runs, as a failure (None: the lab's image and program run)."""
    if not image:
        return None

    def judge() -> CheckFailed | None:
        problem = _identity_problem(run, pod, container, image, program)
        hint = IDENTITY_HINT.format(image=image) + (
            f"; leave out command and args, or start them with {program}" if program else "")
        return CheckFailed(expected=f"container {container} of Pod {pod} to run the image {image}"
                                    + (f" and its program {program}" if program else ""),
                           observed=problem, hint=hint) if problem else None

    return run.state.pod(pod).identity((container, image, program), judge)


def unanswered(run: LabRun, pod: str, server: str, image: str | None, program: str | None, expected: str,
               observed: str, hint: str) -> CheckFailed:
    """A request to the server that got no right answer: when the server does not run the lab's program, that
    is the cause (said in full once, pointed to by the other checks it fails), else the answer is."""
    cause = identity_failure(run, pod, server, image, program)
    if cause is None:
        return CheckFailed(expected=expected, observed=observed, hint=hint)
    said = because(run, cause)
    return CheckFailed(expected=expected, observed=f"{observed}, because {said.observed}",
                       hint=said.hint, details=said.details)


def _identity_problem(run: LabRun, pod: str, container: str, image: str, program: str | None) -> str:
    state = wait_started(run, pod)
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
    there the command's words are all it judges (graders/backends/kube/evidence.py running_program)."""
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
