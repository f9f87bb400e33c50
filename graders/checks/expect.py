"""Expectations as data: a rubric states the part of a Pod it cares about as a partial tree, and the
checks here say, field by field and in the student's file, where the Pod differs.

    expect.spec_matches(run, "web", {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                                              "resources": {"limits": {"cpu": "500m"}}}]}},
                        what="...", hint="...")

How the partial tree matches (by name in named lists, images and quantities normalised, Matcher for a
rule) is graders/checks/partial_tree.py; its names a rubric uses are reachable from here (expect.Matcher,
expect.declares_port, expect.mismatches, expect.parse_quantity).

Observed-state checks (labels and annotations read back, env inside a container, the page a server
answers with, phase) wait for the Pod's containers to run, failing fast on what cannot improve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from graders import capabilities
from graders.backends.base import NOT_FOUND, PodState
from graders.checks.diagnostics import describe, page_words
from graders.checks import pods
from graders.checks.partial_tree import (Matcher as Matcher, Mismatch as Mismatch, declares_port as declares_port,
                                         items, mismatches, parse_quantity, port_matcher as port_matcher, port_of)
from graders.checks.pods import pod_containers, until_answered, wait_running
from graders.errors import CheckFailed, InfraError
from graders.run import LabRun
from graders.waiting import NoAnswer, NotYet, Settled
from graders.yamlfiles import read_documents


# -- checks on the submitted spec ----------------------------------------------------------------------
def only_container(run: LabRun, pod: str, *, hint: str) -> str:
    """The name of the Pod's only container (native sidecars count), for a task that leaves the name free."""
    run.require(pod)
    names = [str(c.get("name")) for c in pod_containers(run.submission.pods[pod]["spec"])]
    if len(names) != 1:
        raise CheckFailed(expected=f"Pod {pod} with exactly one container",
                          observed=f"{file_of(run, pod)}: spec.containers: expected exactly one container; found "
                                   f"{len(names)}" + (f" ({', '.join(names)})" if names else ""), hint=hint)
    return names[0]


def containers_named(run: LabRun, pod: str, names: Sequence[str], *, hint: str) -> None:
    """The Pod's containers (native sidecars included) have exactly these names, in any order, and no others."""
    run.require(pod)
    found = [str(c.get("name")) for c in pod_containers(run.submission.pods[pod]["spec"])]
    if sorted(found) != sorted(names):
        raise CheckFailed(expected=f"Pod {pod} with the containers {', '.join(names)} and no others",
                          observed=f"{file_of(run, pod)}: spec.containers: expected containers named "
                                   f"{', '.join(names)}; found {', '.join(found) or 'none'}", hint=hint)


def file_of(run: LabRun, pod: str) -> str:
    """The name of the file the student wrote the Pod in (for messages)."""
    return run.state.pod(pod).file(lambda: _find_file(run, pod))


def _find_file(run: LabRun, pod: str) -> str:
    # TODO(lead): Submission could record the file of each accepted Pod; until then read them again
    # (with the same limits: these files were accepted once already).
    folder = Path(run.submission.folder)
    for name in run.submission.files:
        try:
            documents = read_documents(folder / name, folder)
        except Exception:  # unreadable now: it cannot be the file an accepted Pod came from
            continue
        if any(isinstance(d, dict) and d.get("kind") == "Pod" and isinstance(d.get("metadata"), dict)
               and d["metadata"].get("name") == pod for d in documents):
            return name
    return "your YAML"


def spec_matches(run: LabRun, pod: str, expected: Mapping[str, Any], *, what: str, hint: str) -> None:
    """The Pod as submitted has every field of `expected`, and so does the cluster's copy of its spec
    (which is what `kubectl get pod -o yaml` shows: quantities and defaults as the cluster stores them)."""
    run.require(pod)
    file = file_of(run, pod)
    found = mismatches(expected, run.submission.pods[pod])
    state = run.sandbox.state(pod)
    if found:  # what the cluster makes of the Pod as written (a wrong image: ErrImagePull) tells the student more
        shown = describe(state)
        if "readinessProbe" in repr(expected) and capabilities.READINESS_PROBES not in run.capabilities:
            shown += " (this backend runs no readiness probes: its READY is not what a kubelet would show)"
        raise CheckFailed(expected=f"Pod {pod}: {what}", observed="\n".join(f"{file}: {m}" for m in found),
                          hint=hint, details=[("What the cluster shows", shown)])
    if state is not None and "spec" in expected:
        found = mismatches(expected["spec"], state.spec, "spec")
        if found:
            raise CheckFailed(expected=f"Pod {pod}: {what}",
                              observed="the cluster reports: " + "; ".join(map(str, found)), hint=hint)


def limits_not_below_requests(run: LabRun, pod: str) -> None:
    """Each limit is at least its request: otherwise the API server refuses the Pod (422).

    Judged from the YAML before run.require(), so that the verdict is the same whether the backend
    refused the Pod (a cluster) or ran it (podman does not check)."""
    if pod not in run.submission.pods:
        run.require(pod)  # not accepted offline: says why
    spec = run.submission.pods[pod]["spec"]
    problems = []
    for place in ("initContainers", "containers"):
        for index, container in enumerate(items(spec.get(place))):
            resources = container.get("resources") or {}
            for resource, request in (resources.get("requests") or {}).items():
                limit = (resources.get("limits") or {}).get(resource)
                try:
                    below = limit is not None and parse_quantity(limit) < parse_quantity(request)
                except ValueError:
                    continue  # the schema check reports a malformed quantity
                if below:
                    problems.append(f"{place}[{index}].resources.requests.{resource}: {request} is more than "
                                    f"its limit {limit}")
    if problems:
        raise CheckFailed(
            expected=f"Pod {pod}: every resource limit at least as large as its request",
            observed=f"{file_of(run, pod)}: spec." + "; spec.".join(problems) +
                     " (a cluster refuses such a Pod: 'must be less than or equal to ... limit')",
            hint="a request is what the scheduler reserves, a limit is the most the container may use: "
                 "the limit cannot be smaller than the request")


# -- waiting for the Pod -------------------------------------------------------------------------------
def wait_started(run: LabRun, pod: str) -> PodState:
    """Wait until every container of the Pod runs (Ready or not: readiness is a check of its own), with the
    verdict of its liveness and startup probes (graders/checks/pods.py wait_started).

    Fails at once on a nodeSelector no node matches (the Pod would stay Pending) and on a state that
    cannot improve (ErrImagePull, CrashLoopBackOff, ...). Remembered for the later checks."""
    return pods.wait_started(run, pod)


# -- observed state ------------------------------------------------------------------------------------
def metadata_observed(run: LabRun, pod: str, *, labels: Mapping[str, str] | None = None,
                      annotations: Mapping[str, str] | None = None, hint: str = "") -> None:
    """The Pod carries these labels and annotations, as the cluster reports them (`kubectl get pod --show-labels`)."""
    labels, annotations = labels or {}, annotations or {}
    run.require(pod)
    state = run.sandbox.state(pod)
    if state is None:
        raise CheckFailed(expected=f"Pod {pod} to exist", observed="it does not", hint="see the checks above")
    observed_annotations = getattr(state, "annotations", None)
    source = "the cluster reports"
    if observed_annotations is None:
        # TODO(lead): PodState has no annotations on today's main; read them back once a backend reports them.
        observed_annotations = run.submission.pods[pod]["metadata"].get("annotations") or {}
        source = "the cluster reports labels; annotations as your YAML has them (this backend does not report them)"
    problems = _pairs("label", labels, state.labels) + _pairs("annotation", annotations, observed_annotations)
    if problems:
        raise CheckFailed(expected=f"Pod {pod} with " + ", ".join(
                              [f"label {k}: {v}" for k, v in labels.items()] +
                              [f"annotation {k}: {v}" for k, v in annotations.items()]),
                          observed=f"{source}: " + "; ".join(problems), hint=hint)


def _pairs(kind: str, expected: Mapping[str, str], observed: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, value in expected.items():
        if key not in observed:
            keys = ", ".join(sorted(k for k in observed if "k8s101" not in k)) or "none"
            problems.append(f"no {kind} {key} ({kind}s present: {keys})")
        elif str(observed[key]) != value:
            problems.append(f"{kind} {key}: {observed[key]!r}, not {value!r}")
    return problems


def env_observed(run: LabRun, pod: str, container: str, env: Mapping[str, str], *, hint: str) -> None:
    """The container's main process sees these environment variables (what `env` would print inside it)."""
    wait_started(run, pod)
    # The environment an exec gets is the container's own (kubelet and podman both pass it), so read the
    # exec'd process's: PID 1's /proc/1/environ is no good, nginx overwrites it with its process title.
    # NUL-separated, so values with newlines survive.
    # TODO(lead): this runs the student's `cat`; use a grader-side route (the container's configured env
    # from the backend, or /proc read from outside) once the backends offer one, so an image cannot fake it.
    result = run.sandbox.exec(pod, container, ["cat", "/proc/self/environ"], timeout=run.timeouts.exec)
    if result.exit_code == NOT_FOUND:
        raise CheckFailed(expected=f"cat in container {container} to read its environment",
                          observed="the image has no cat", hint="use the image the README names")
    if result.exit_code != 0:
        raise InfraError(f"could not read the environment of container {container} of Pod {pod}",
                         tried=[f"cat /proc/self/environ: exit {result.exit_code}: {result.stderr.strip()[:200]}"],
                         fix="run the grader again")
    seen = dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)
    problems = []
    for name, value in env.items():
        if name not in seen:
            problems.append(f"{name} is not set")
        elif seen[name] != value:
            problems.append(f"{name}={seen[name]!r}, not {value!r}")
    if problems:
        names = ", ".join(sorted(n for n in seen if n not in ("PATH", "HOSTNAME", "HOME", "TERM", "container")))
        raise CheckFailed(expected=f"inside container {container} of Pod {pod}: " +
                                   ", ".join(f"{k}={v}" for k, v in env.items()),
                          observed="; ".join(problems) + f" (variables you set that it has: {names or 'none'})",
                          hint=hint)


def http_status(run: LabRun, pod: str, container: str, url: str) -> int | None:
    """The HTTP status a GET of url (http://localhost:PORT/PATH) gets inside the Pod's network, None when
    nothing answers. Made from the grader's side: the student's image and its programs are not involved."""
    port, path = _port_and_path(url)
    return run.sandbox.http_get(pod, port, path, timeout=run.timeouts.exec).status


def page_served(run: LabRun, pod: str, container: str, *, port: int, path: str = "/", text: str, what: str,
                hint: str) -> None:
    """http://localhost:port/path, requested inside the Pod's network from the grader's side, answers
    with `text` in the page (container: the one that serves it, for the message)."""
    wait_started(run, pod)
    url = f"http://localhost:{port}{path}"

    def probe() -> None:
        answer = run.sandbox.http_get(pod, port, path, timeout=run.timeouts.exec)
        if answer.status == 200 and text in answer.body:
            return
        if answer.status is not None:  # a 200 is the server's page, which waiting does not change
            raise (Settled if answer.status == 200 else NotYet)(
                f"HTTP {answer.status}, an answer without {text!r}: {page_words(answer.body)}")
        raise NoAnswer(f"no answer: {answer.error or 'nothing listens there'}")

    try:
        until_answered(run, pod, port, probe)
    except (NotYet, Settled) as last:
        raise CheckFailed(expected=f"{url}, served by container {container} of Pod {pod}, to answer with {what}",
                          observed=last.observed, hint=hint) from None


def _port_and_path(url: str) -> tuple[int, str]:
    parts = urlsplit(url)
    return parts.port or 80, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def phase_is(run: LabRun, pod: str, phase: str) -> PodState:
    """The Pod's phase, as `kubectl get pod` shows it in STATUS."""
    state = wait_started(run, pod)
    if state.phase != phase:
        raise CheckFailed(expected=f"Pod {pod} in phase {phase}", observed=describe(state),
                          hint=f"`kubectl get pod {pod} -o wide` shows the phase")
    return state


def readiness_probe_answers(run: LabRun, pod: str, container: str) -> None:
    """The container's httpGet readinessProbe gets 200-399, as the kubelet requires before it marks the
    container Ready: where the backend runs readiness probes (a kubelet), its verdict is the container's
    ready flag; elsewhere (podman) the grader makes the probe's request from inside the Pod's network."""
    state = wait_started(run, pod)
    containers = items(run.submission.pods[pod]["spec"].get("containers"))
    spec: dict[str, Any] = next((c for c in containers if c.get("name") == container), {})
    http = (spec.get("readinessProbe") or {}).get("httpGet")
    if not isinstance(http, Mapping):
        raise CheckFailed(expected=f"an httpGet readinessProbe on container {container}", observed="none",
                          hint="add readinessProbe.httpGet with path and port")
    port, path = port_of(spec, http.get("port")), http.get("path", "/")
    if port is None:
        raise CheckFailed(expected="the readinessProbe's port to be a number or the name of a containerPort",
                          observed=f"port {http.get('port')!r} names no port of container {container}",
                          hint="use the name you gave the port under ports (e.g. http)")
    url = f"http://localhost:{port}{path}"
    if capabilities.READINESS_PROBES in run.capabilities:  # the kubelet probes: its verdict is Ready or not
        try:
            wait_running(run, pod)  # a verdict once the kubelet had its tries (graders/checks/probes.py)
        except CheckFailed as failure:
            raise CheckFailed(
                expected=f"the readinessProbe of container {container} (GET {url}) to succeed, so that the kubelet "
                         f"marks it Ready", observed=failure.observed,
                hint="probe the path and port the server really serves", details=failure.details) from failure
        return
    try:
        status = until_answered(run, pod, port, lambda: http_status(run, pod, container, url) or _no_answer(url))
    except NotYet:
        status = None
    if status is None or not 200 <= status < 400:
        raise CheckFailed(
            expected=f"the readinessProbe of container {container} (GET {url}) to get an answer 200-399",
            observed=(f"it gets HTTP {status}" if status else "nothing answers there") +
                     f": the kubelet never marks the container Ready, so Pod {pod} stays Running but never Ready "
                     f"(READY 0/{len(state.containers)} in `kubectl get pod`)",
            hint="probe the path and port the server really serves")


def _no_answer(url: str) -> int:
    raise NoAnswer(f"nothing answers at {url}")
