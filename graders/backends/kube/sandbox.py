"""One Sandbox on a cluster is one fresh namespace, deleted with everything in it: the object store half
(create, read, list, delete, leftovers, a Pod's state, logs and events) over graders/backends/kube/calls.py;
the evidence half is graders/backends/kube/evidence.py.

Objects of any kind in graders/backends/resources.py are created, read, listed and deleted the same
way: raw JSON on the kind's REST path, no generated method or model per kind. Pods keep the typed
reads their state needs (container statuses, logs, exec).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from typing import Any, Callable

from kubernetes import client

from graders import bounds, images
from graders.backends.base import ApplyRejected, ContainerState, PodState, run_labels
from graders.backends.kube.calls import call, delete, get, post, request
from graders.backends.kube.errors import (
    NETWORK_ERRORS, APIError, BadRequest, Conflict, Forbidden, Invalid, infra)
from graders.backends.kube.evidence import LOG_READ_LIMIT, PodEvidence
from graders.backends.kube.state import NATIVE_SIDECARS_SINCE, NOT_STARTED, PULLING, pod_state, server_minor
from graders.backends.resources import RESOURCES, Resource
from graders.errors import InfraError
from graders.waiting import NotYet, until

# The run's namespace enforces what the offline policy checks, and bounds what a Pod may take with the
# numbers of graders/bounds.py, the same on every backend. The LimitRanger admission plugin gives a
# container without limits or requests the defaults, and answers a container above `max` with 403
# (plugin/pkg/admission/limitranger/admission.go: mergePodResourceRequirements, maxConstraint): it never
# lowers a limit. So `max` holds only what the offline policy already refuses (memory and
# ephemeral-storage above the bound): it never fires for a submission that was accepted, and a CPU limit
# (which reserves nothing) is not bounded here, as podman runs it capped.
POD_SECURITY = {"pod-security.kubernetes.io/enforce": "baseline"}
LIMIT_RANGE: dict[str, Any] = {"metadata": {"name": "k8s101-limits"}, "spec": {"limits": [{
    "type": "Container", "default": dict(bounds.DEFAULT_LIMITS), "defaultRequest": dict(bounds.DEFAULT_REQUESTS),
    "max": dict(bounds.MAX_LIMITS)}]}}
RESOURCE_QUOTA: dict[str, Any] = {"metadata": {"name": "k8s101-quota"}, "spec": {"hard": dict(bounds.RUN_QUOTA)}}
# A 403 has no reason beyond "Forbidden": which admission refused is said only in the Status's message.
# 403s of a namespace just made: its default ServiceAccount, or its quota's usage, is not there yet
NOT_YET_403 = ('serviceaccount "default" not found', "status unknown for quota")
# 403s for a Pod beyond the run's own LimitRange, ResourceQuota or Pod Security level (the namespace's
# baseline): the submission's, in the admission plugin's words; the offline policy refuses these first
OVER_OUR_BOUNDS = ("usage per Container is", "usage per Pod is",
                   f"exceeded quota: {RESOURCE_QUOTA['metadata']['name']}", 'violates PodSecurity "baseline:')


class KubernetesSandbox(PodEvidence):
    def __init__(self, make_client: Callable[[], client.ApiClient], namespace: str, run_id: str, where: str,
                 progress: Callable[[str], None] | None = None, version: str = "") -> None:
        self._make_client = make_client
        self._progress = progress  # told once per image the node is pulling (minutes on a first run)
        self._told_pulling: set[str] = set()
        self.api = client.CoreV1Api(make_client())
        self.namespace = namespace
        self.description = f"namespace {namespace} on {where}"
        self._kinds: set[str] = {"Pod"}  # kinds this sandbox created, for leftovers
        self._node_labels: dict[str, frozenset[str]] | None = None
        self._known_digests: dict[str, images.KnownDigests] = {}  # an image's digests, once a node lists them
        self.version = version  # the server's gitVersion (v1.36.1), "" when unknown
        self.labels = run_labels(run_id, time.time())
        request(f"create the namespace {namespace}", self.api.create_namespace,
                 {"metadata": {"name": namespace, "labels": {**self.labels, **POD_SECURITY}}})
        for kind, plural, body in (("LimitRange", "limitranges", LIMIT_RANGE),
                                   ("ResourceQuota", "resourcequotas", RESOURCE_QUOTA)):
            request(f"create the {kind} of {namespace}", post, self.api.api_client,
                     f"/api/v1/namespaces/{namespace}/{plural}",
                     {"apiVersion": "v1", "kind": kind, **body,
                      "metadata": {**body["metadata"], "labels": self.labels}})

    # -- Sandbox ----------------------------------------------------------------------------------
    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        name = str((pod.get("metadata") or {}).get("name"))
        kind = str(pod.get("kind") or "Pod")
        try:
            self._apply(pod, resource_of(kind), f"{kind} {name}", timeout)
        except (InfraError, ApplyRejected):
            raise
        except Exception as error:  # never let one object's surprise take down the whole run
            raise InfraError(f"an unexpected error while creating {kind} {name}: {type(error).__name__}: {error}",
                             tried=[f"creating {kind} {name} in {self.description}"],
                             fix="run again; if it persists, report it with this message") from error

    def _apply(self, pod: dict[str, Any], resource: Resource, name: str, timeout: float) -> None:
        """name: "Pod web", for messages."""
        self._refuse_what_the_cluster_cannot_run(pod, name)
        self._kinds.add(resource.kind)
        body = json.loads(json.dumps(pod))
        body["metadata"]["namespace"] = self.namespace
        body["metadata"]["labels"] = {**(body["metadata"].get("labels") or {}), **self.labels}

        def create() -> None:
            try:
                # the raw object, as kubectl sends it: the client's models would refuse `cpu: 1`
                call(post, self.api.api_client, resource.path(self.namespace), body)
            except Forbidden as error:
                if any(words in error.message for words in NOT_YET_403):
                    # a fresh namespace: its ServiceAccount or quota status comes soon
                    raise NotYet(error.message) from error
                if any(words in error.message for words in OVER_OUR_BOUNDS):
                    raise ApplyRejected(f"{error.status} {error.phrase}: {error.message}") from error
                raise InfraError(f"the cluster's policy refused {name}: {error.message}",
                                 tried=[f"creating {name} in {self.description}"],
                                 fix="this cluster forbids what the lab needs (RBAC, a quota or a Pod "
                                     "Security level above baseline): grade on the grader's own kind "
                                     "cluster (--backend kind) or ask the cluster's admin") from error
            except (BadRequest, Conflict, Invalid) as error:
                raise ApplyRejected(f"{error.status} {error.phrase}: {error.message}") from error
            except (APIError, *NETWORK_ERRORS) as error:
                raise infra(f"create {name}", error) from error

        try:
            until(create, timeout=timeout)
        except NotYet as last:
            raise InfraError(f"the namespace {self.namespace} was not ready for {resource.kind}s within "
                             f"{timeout:g} s: {last.observed}", fix="raise --timeout-apply") from None

    def _refuse_what_the_cluster_cannot_run(self, pod: dict[str, Any], name: str) -> None:
        """Native sidecars need Kubernetes 1.29+ (SidecarContainers, beta and on by default from 1.29). An
        older API server does not refuse them: it drops restartPolicy from init containers
        (pkg/api/pod/util.go, dropDisabledFields), and the sidecar then runs as an ordinary init container
        that never ends, so the Pod never starts. Said before applying, as the cluster's limit."""
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return
        sidecars = [c.get("name") for c in spec.get("initContainers") or []
                    if isinstance(c, dict) and c.get("restartPolicy") == "Always"]
        minor = server_minor(self.version)
        if sidecars and minor is not None and minor < NATIVE_SIDECARS_SINCE:
            raise InfraError(f"your cluster is too old for native sidecars (Kubernetes 1.{NATIVE_SIDECARS_SINCE}+): "
                             f"{name} runs {', '.join(map(str, sidecars))} as initContainers with restartPolicy: "
                             f"Always, and {self.description} runs Kubernetes {self.version}",
                             tried=[f"creating {name} in {self.description}"],
                             fix="grade on the grader's own kind cluster (--backend kind, Kubernetes "
                                 "1.36), or upgrade the cluster; no points are lost")

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        resource = resource_of(kind)
        return request(f"read {kind} {name}", get, self.api.api_client, resource.path(self.namespace, name),
                        missing_ok=True)

    def state(self, pod: str) -> PodState | None:
        found = request(f"read Pod {pod}", self.api.read_namespaced_pod, pod, self.namespace, missing_ok=True)
        if not found:
            return None
        state = pod_state(found, self.api.api_client)
        if any(c.reason in NOT_STARTED for c in (*state.containers, *state.init_containers)):
            state = self._with_pulls(state)
        return state

    def _with_pulls(self, state: PodState) -> PodState:
        """A container not started yet (ContainerCreating, or PodInitializing for an init container) while
        the node pulls its image (events: Pulling without Pulled) is PULLING, so that a deadline reached
        meanwhile is the machine's, not the student's."""
        pulling: set[str] = set()
        for line in self.events(state.name):
            found = re.search(r'image "([^"]+)"', line)
            if found and " Pulling: " in line:
                pulling.add(found.group(1))
            elif found and " Pulled: " in line:
                pulling.discard(found.group(1))

        def marked(containers: tuple[ContainerState, ...]) -> tuple[ContainerState, ...]:
            return tuple(dataclasses.replace(c, reason=PULLING, message=f"pulling {c.image} …")
                         if c.reason in NOT_STARTED and c.image in pulling else c for c in containers)

        for image in sorted(pulling - self._told_pulling):
            self._told_pulling.add(image)
            if self._progress:
                self._progress(f"pulling {image} … (the first run downloads it; this can take minutes)")
        return dataclasses.replace(state, containers=marked(state.containers),
                                   init_containers=marked(state.init_containers))

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        """The container's last lines; '' only when it has not started. Any other failure is the
        cluster's (InfraError): an empty log would fail a check that reads the logs for evidence."""
        try:
            return call(self.api.read_namespaced_pod_log, pod, self.namespace, container=container, tail_lines=tail,
                        limit_bytes=LOG_READ_LIMIT) or ""
        except BadRequest as error:
            # the kubelet's "container ... is waiting to start: REASON", which has no Status reason of its own
            if "waiting to start" in error.message:
                return ""  # no logs yet (container not started): nothing to show
            raise infra(f"read the logs of container {container} of Pod {pod}", error) from error
        except (APIError, *NETWORK_ERRORS) as error:
            raise infra(f"read the logs of container {container} of Pod {pod}", error) from error

    def events(self, pod: str) -> list[str]:
        try:
            found = call(self.api.list_namespaced_event, self.namespace, field_selector=f"involvedObject.name={pod}")
        except (APIError, *NETWORK_ERRORS):
            return []  # diagnostics only: a failure to read them must not hide the failure they explain
        items = sorted(found.items, key=lambda e: str(e.last_timestamp or e.event_time or ""))
        return [f"{e.type} {e.reason}: {e.message}" for e in items]

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        if kind == "Pod":
            request(f"delete Pod {pod}", self.api.delete_namespaced_pod, pod, self.namespace,
                     grace_period_seconds=grace_seconds, missing_ok=True)
        else:
            grace = {} if grace_seconds is None else {"gracePeriodSeconds": grace_seconds}
            request(f"delete {kind} {pod}", delete, self.api.api_client, resource_of(kind).path(self.namespace, pod),
                     {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground", **grace},
                     missing_ok=True)

        def gone() -> None:
            if (self.state(pod) if kind == "Pod" else self.read(kind, pod)) is not None:
                raise NotYet("still there")

        try:
            until(gone, timeout=timeout)
        except NotYet:
            return False
        return True

    def leftovers(self) -> list[str]:
        return [f"{kind.lower()} {name}" for kind in sorted(self._kinds, key=lambda kind: kind != "Pod")
                for name in self._names(kind)]

    def _pod_names(self) -> list[str]:
        return self._names("Pod")

    def _names(self, kind: str) -> list[str]:
        """Names only, read as raw JSON: the client's models could refuse an object the server accepted."""
        resource = resource_of(kind)
        found = request(f"list the {resource.plural} of {self.namespace}", get, self.api.api_client,
                         resource.path(self.namespace), missing_ok=True)
        return [item["metadata"]["name"] for item in (found or {}).get("items") or []]

    def close(self) -> None:
        """Delete the run's Pods at once (grace 0), then the namespace, without waiting for either.

        A namespace deletion alone gives each Pod its own grace period (30 s for a sidecar whose PID 1
        ignores SIGTERM) and keeps the namespace Terminating meanwhile, which counts against quotas.
        """
        try:
            for pod in self._pod_names():
                request(f"delete Pod {pod}", self.api.delete_namespaced_pod, pod, self.namespace,
                         grace_period_seconds=0, missing_ok=True, _preload_content=False)  # no model: as above
            request(f"delete the namespace {self.namespace}", self.api.delete_namespace, self.namespace,
                     grace_period_seconds=0, missing_ok=True)
        finally:
            self.api.api_client.close()



def resource_of(kind: str) -> Resource:
    """Where a kind lives in the API; InfraError for a kind the table lacks (a lab asked for it anyway)."""
    if kind not in RESOURCES:
        raise InfraError(f"the graders cannot create objects of kind {kind} on a cluster yet",
                         fix=f"add {kind} to graders/backends/resources.py (the course staff's task)")
    return RESOURCES[kind]


def sandbox_namespace(lab_id: str, run_id: str) -> str:
    return f"k8s101-{lab_id.replace('.', '-')}-{run_id}"
