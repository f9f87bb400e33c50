"""Pods become Running and Ready, and look the way the lesson asks (labels, images, ports)."""

from __future__ import annotations

import time
from typing import Mapping, Sequence

from graders.backends.base import PodState
from graders.checks.diagnostics import FATAL_REASONS, describe, details, fatal_hint
from graders.errors import CheckFailed, InfraError
from graders.run import LabRun
from graders.waiting import NotYet, until

STABLE_AFTER_RESTART = 1.5  # seconds a restarted container must stay up to count as running


def wait_running(run: LabRun, pod: str) -> PodState:
    """Wait until every container of the Pod runs and is Ready; remembered for the later checks.

    Fails at once on a state that cannot improve (ErrImagePull, CrashLoopBackOff, ...).
    """
    key = ("running", pod)
    if key not in run.memo:
        try:
            run.memo[key] = _wait_running(run, pod)
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

    def probe() -> PodState:
        state = run.sandbox.state(pod)
        if state is None:  # it was created: only something outside the grader removes it
            raise _disappeared(run, pod)
        _fail_on_fatal(run, pod, state)
        if state.phase == "Running" and all(c.running and c.ready for c in state.containers):
            return state
        raise NotYet(describe(state))

    try:
        state = until(probe, timeout=run.timeouts.ready)
    except NotYet as last:
        raise CheckFailed(
            expected=f"Pod {pod} Running with all containers Ready within {run.timeouts.ready:g} s",
            observed=last.observed,
            hint=f"`kubectl describe pod {pod}` shows why it is stuck; slow machine? raise --timeout-ready",
            details=details(run, pod))
    if any(c.restarts for c in state.containers):
        state = _stable(run, pod, state)
    return state


def _stable(run: LabRun, pod: str, state: PodState) -> PodState:
    """A container that already restarted must stay up a moment: it may be crash-looping."""
    time.sleep(STABLE_AFTER_RESTART)
    later = run.sandbox.state(pod)
    if later is None:
        raise _disappeared(run, pod)
    for before in state.containers:
        after = later.container(before.name)
        if after is None or not after.running or after.restarts != before.restarts:
            raise CheckFailed(
                expected=f"container {before.name} of Pod {pod} to keep running",
                observed=f"container {before.name}: CrashLoopBackOff: it keeps exiting and being restarted "
                         f"({after.restarts if after else '?'} restarts so far)",
                hint=fatal_hint(run, pod, after or before, "CrashLoopBackOff"),
                details=details(run, pod, [before.name]))
    return later


def _disappeared(run: LabRun, pod: str) -> InfraError:
    return InfraError(f"Pod {pod} disappeared after it was created: something outside the grader deleted it",
                      tried=[f"reading Pod {pod} in {run.sandbox.description}"],
                      fix="do not delete the grader's Pods while it runs; run it again")


def _fail_on_fatal(run: LabRun, pod: str, state: PodState) -> None:
    for container in state.containers:
        if container.reason in FATAL_REASONS:
            raise CheckFailed(
                expected=f"container {container.name} of Pod {pod} (image {container.image}) to start",
                observed=f"container {container.name}: {container.reason}: {container.message}".rstrip(": "),
                hint=fatal_hint(run, pod, container, container.reason),
                details=details(run, pod, [container.name]))
    if state.phase in ("Succeeded", "Failed"):
        raise CheckFailed(
            expected=f"Pod {pod} to keep running",
            observed=f"the Pod has finished ({describe(state)})",
            hint="the containers' commands exited; a Pod for a server or a sidecar must run a long-lived "
                 "command",
            details=details(run, pod))


def pod_ready(run: LabRun, pod: str, *, containers: Sequence[str] | None = None,
              labels: Mapping[str, str] | None = None, images: Mapping[str, str] | None = None,
              ports: Mapping[str, int] | None = None) -> PodState:
    """The Pod runs and is Ready, with the containers, labels, images and ports the lesson asks for.

    `images` and `ports` map a container name to its expected value; the name "*" means the Pod's
    only container, whatever its name.
    """
    run.require(pod)
    spec_problems = _spec_problems(run.submission.pods[pod], containers, labels, images, ports)
    if spec_problems:
        raise CheckFailed(
            expected=f"Pod {pod} as the lab describes it",
            observed="; ".join(spec_problems),
            hint="compare your YAML with the task in the README; field names are case-sensitive",
            details=[("What the cluster shows", describe(run.sandbox.state(pod)))])
    return wait_running(run, pod)


def _spec_problems(pod: dict, containers: Sequence[str] | None, labels: Mapping[str, str] | None,
                   images: Mapping[str, str] | None, ports: Mapping[str, int] | None) -> list[str]:
    problems: list[str] = []
    spec_containers = pod["spec"].get("containers") or []
    by_name = {c.get("name"): c for c in spec_containers}
    if containers is not None and sorted(by_name) != sorted(containers):
        problems.append(f"expected containers named {', '.join(containers)}; found "
                        f"{', '.join(map(str, by_name)) or 'none'}")
    have_labels = pod["metadata"].get("labels") or {}
    for key, value in (labels or {}).items():
        if str(have_labels.get(key)) != value:
            problems.append(f"expected label {key}: {value}; found "
                            f"{key}: {have_labels[key]}" if key in have_labels else
                            f"expected label {key}: {value}; the Pod has labels {dict(have_labels) or 'none'}")

    def container(name: str) -> dict | None:
        if name == "*":
            if len(spec_containers) != 1:
                problems.append(f"expected exactly one container; found {len(spec_containers)}")
                return None
            return spec_containers[0]
        return by_name.get(name)

    for name, image in (images or {}).items():
        found = container(name)
        if found is not None and normalize_image(found.get("image", "")) != normalize_image(image):
            problems.append(f"expected container {found.get('name')} to run image {image}; found "
                            f"{found.get('image')!r}")
    for name, port in (ports or {}).items():
        found = container(name)
        declared = [p.get("containerPort") for p in found.get("ports") or []] if found else []
        if found is not None and port not in declared:
            problems.append(f"expected container {found.get('name')} to declare containerPort {port}; found "
                            f"{declared or 'no ports'}")
    return list(dict.fromkeys(problems))


def normalize_image(image: str) -> str:
    """nginx:1.25, docker.io/nginx:1.25 and docker.io/library/nginx:1.25 are the same image."""
    image = image.split("@", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if image.startswith(prefix):
            return image[len(prefix):]
    return image
