"""The Kubernetes API side of the kind and context backends: the only module that imports the
official `kubernetes` client. One Sandbox is one fresh namespace, deleted with everything in it.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import urllib3
import websocket
from websocket import WebSocketException
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from graders.backends.base import (
    MANAGED_BY, MANAGED_BY_LABEL, NOT_FOUND, ApplyRejected, ContainerState, ExecResult, PodState, is_stale,
    run_labels)
from graders.backends.base import MAX_VOLUME_BYTES, HttpResponse  # grader-side evidence
from graders.errors import InfraError, interrupted
from graders.waiting import NotYet, until

REQUEST_TIMEOUT = 15  # seconds for one API call
NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)
# stream() opens its websocket with no timeout of its own: bound the connect to a stalled API server
websocket.setdefaulttimeout(REQUEST_TIMEOUT)


def api_client(kubeconfig: Path | None, context: str | None) -> client.ApiClient:
    """A client for one kubeconfig context; the process environment is left alone."""
    try:
        return config.new_client_from_config(config_file=str(kubeconfig) if kubeconfig else None, context=context)
    except (config.ConfigException, OSError, ValueError) as error:
        raise InfraError(f"cannot load the kubeconfig context {context!r}: {error}",
                         tried=[f"kubeconfig {kubeconfig or '~/.kube/config (or $KUBECONFIG)'}"],
                         fix="`kubectl config get-contexts` lists the contexts you can name with --context")


class ClusterBackend:
    """What the kind and context backends share once they reach a cluster: a sandbox is a namespace."""

    name = "cluster"

    def __init__(self, make_client: Callable[[], client.ApiClient], where: str) -> None:
        self._make_client = make_client
        self.where = where

    def open_sandbox(self, lab_id: str, run_id: str) -> "KubernetesSandbox":
        return KubernetesSandbox(self._make_client, sandbox_namespace(lab_id, run_id), run_id, where=self.where)

    def reap_stale(self, older_than: float) -> list[str]:
        return reap_stale_namespaces(self._make_client(), older_than)

    def close(self) -> None:
        pass


class KubernetesSandbox:
    def __init__(self, make_client: Callable[[], client.ApiClient], namespace: str, run_id: str, where: str) -> None:
        self._make_client = make_client
        self.api = client.CoreV1Api(make_client())
        self.namespace = namespace
        self.description = f"namespace {namespace} on {where}"
        self.labels = run_labels(run_id, time.time())
        _request(f"create the namespace {namespace}", self.api.create_namespace,
                 {"metadata": {"name": namespace, "labels": self.labels}})

    # -- Sandbox ----------------------------------------------------------------------------------
    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        body = json.loads(json.dumps(pod))
        body["metadata"]["namespace"] = self.namespace
        body["metadata"]["labels"] = {**(body["metadata"].get("labels") or {}), **self.labels}
        name = body["metadata"]["name"]

        def create() -> None:
            try:
                self.api.create_namespaced_pod(self.namespace, body, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as error:
                message = _api_message(error)
                if error.status == 403 and "serviceaccount" in message.lower():
                    raise NotYet(message)  # a fresh namespace's default ServiceAccount is not there yet
                if error.status in (400, 403, 409, 422):
                    raise ApplyRejected(f"{error.status} {error.reason}: {message}")
                raise _infra(f"create Pod {name}", error)
            except NETWORK_ERRORS as error:
                raise _infra(f"create Pod {name}", error)

        try:
            until(create, timeout=timeout)
        except NotYet as last:
            raise InfraError(f"the namespace {self.namespace} was not ready for Pods within {timeout:g} s: "
                             f"{last.observed}", fix="raise --timeout-apply")

    def state(self, pod: str) -> PodState | None:
        found = _request(f"read Pod {pod}", self.api.read_namespaced_pod, pod, self.namespace, missing_ok=True)
        return pod_state(found, self.api.api_client) if found else None

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        # stream() patches the client it is given: a fresh client per exec, never shared across threads
        api = client.CoreV1Api(self._make_client())
        what = f"run {' '.join(argv)!r} in container {container} of Pod {pod}"
        try:
            response = stream(api.connect_get_namespaced_pod_exec, pod, self.namespace, container=container,
                              command=argv, stderr=True, stdin=False, stdout=True, tty=False,
                              _preload_content=False)
        except (ApiException, WebSocketException, OSError) as error:
            api.api_client.close()
            if interrupted.is_set():  # stream() turns Ctrl-C into an ApiException: let the run stop
                raise KeyboardInterrupt from error
            raise _infra(what, error)
        try:
            try:
                response.run_forever(timeout=timeout)
            except (WebSocketException, OSError) as error:
                raise _infra(what, error)
            if response.is_open():
                raise InfraError(f"the command did not finish within {timeout:g} s while trying to {what}",
                                 fix="raise --timeout-exec if the cluster is slow")
            exit_code, message = exec_status(response.read_channel(ERROR_CHANNEL))
            stderr = response.read_stderr() or ""
            return ExecResult(exit_code, response.read_stdout() or "", stderr + message)
        finally:
            response.close()
            api.api_client.close()

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        try:
            return self.api.read_namespaced_pod_log(pod, self.namespace, container=container, tail_lines=tail,
                                                    _request_timeout=REQUEST_TIMEOUT) or ""
        except (ApiException, *NETWORK_ERRORS):
            return ""  # no logs yet (container not started): nothing to show

    def events(self, pod: str) -> list[str]:
        try:
            found = self.api.list_namespaced_event(self.namespace, field_selector=f"involvedObject.name={pod}",
                                                   _request_timeout=REQUEST_TIMEOUT)
        except (ApiException, *NETWORK_ERRORS):
            return []  # diagnostics only: a failure to read them must not hide the failure they explain
        items = sorted(found.items, key=lambda e: str(e.last_timestamp or e.event_time or ""))
        return [f"{e.type} {e.reason}: {e.message}" for e in items]

    def delete(self, pod: str, grace_seconds: int | None, timeout: float) -> bool:
        _request(f"delete Pod {pod}", self.api.delete_namespaced_pod, pod, self.namespace,
                 grace_period_seconds=grace_seconds, missing_ok=True)

        def gone() -> None:
            if self.state(pod) is not None:
                raise NotYet("still there")

        try:
            until(gone, timeout=timeout)
        except NotYet:
            return False
        return True

    def leftovers(self) -> list[str]:
        found = _request(f"list the Pods of {self.namespace}", self.api.list_namespaced_pod, self.namespace,
                         missing_ok=True)
        return [f"pod {p.metadata.name}" for p in found.items] if found else []

    def close(self) -> None:
        """Delete the namespace; its Pods go with it (not waited for: the namespace is the run's)."""
        try:
            _request(f"delete the namespace {self.namespace}", self.api.delete_namespace, self.namespace,
                     grace_period_seconds=0, missing_ok=True)
        finally:
            self.api.api_client.close()

    # -- evidence from the grader's side --------------------------------------------------------------
    probes_readiness = True  # the kubelet runs readinessProbes: a container's ready flag already says it
    PROBE_IMAGE = "busybox:1.36"  # the lab's own image, for the ephemeral container that reads a volume

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        """GET through the API server's pod proxy: /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH?QUERY."""
        path, _, query = path.lstrip("/").partition("?")
        method, url, headers, body, post = self.api._connect_get_namespaced_pod_proxy_with_path_serialize(
            name=f"{pod}:{int(port)}", namespace=self.namespace, path=path, path2=None, _request_auth=None,
            _content_type=None, _headers=None, _host_index=0)
        if query:
            url += "?" + quote(query, safe="=&")
        try:
            response = self.api.api_client.call_api(method, url, headers, body, post,
                                                     _request_timeout=max(1.0, timeout))
            response.read()
        except NETWORK_ERRORS as error:
            return HttpResponse(status=None, error=f"no answer: {error}")
        text = (response.data or b"").decode("utf-8", "replace")
        if response.status in (502, 503) and '"kind":"Status"' in text.replace(" ", ""):
            try:  # the API server could not reach the Pod: no HTTP answer from the Pod itself
                return HttpResponse(status=None, error=json.loads(text).get("message", text))
            except ValueError:
                return HttpResponse(status=None, error=text[:200])
        return HttpResponse(status=response.status, body=text)

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        """Only approximated through the pod proxy (any HTTP answer); the kubelet runs tcpSocket probes."""
        return self.http_get(pod, port, "/", timeout).status is not None

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        """An ephemeral container of the lab's busybox image mounts the volume read-only and prints its
        regular files (never following symlinks nor opening FIFOs); its logs are read through the API.
        Each file is introduced by a random separator the Pod's own programs cannot know."""
        name, separator = f"grader-{uuid.uuid4().hex[:8]}", f"=={uuid.uuid4().hex}=="
        script = (f'cd /grader-volume && find . -type f | head -100 | while read -r f; do '
                  f'echo "{separator} $f"; tail -c {MAX_VOLUME_BYTES} "$f"; echo; done')
        body = {"spec": {"ephemeralContainers": [{
            "name": name, "image": self.PROBE_IMAGE, "command": ["sh", "-c", script],
            "volumeMounts": [{"name": volume, "mountPath": "/grader-volume", "readOnly": True}],
            "securityContext": {"allowPrivilegeEscalation": False}}]}}
        what = f"read volume {volume} of Pod {pod}"
        _request(what, self.api.patch_namespaced_pod_ephemeralcontainers, pod, self.namespace, body,
                 _content_type="application/strategic-merge-patch+json")

        def finished() -> None:
            found = _request(what, self.api.read_namespaced_pod, pod, self.namespace)
            statuses = {s.name: s for s in (found.status.ephemeral_container_statuses or [])} if found.status else {}
            status = statuses.get(name)
            if not (status and status.state and status.state.terminated):
                raise NotYet("the grader's reader container has not finished")

        try:
            until(finished, timeout=timeout)
        except NotYet as last:
            raise InfraError(f"could not {what} within {timeout:g} s: {last.observed}",
                             fix="raise --timeout-exec if the cluster is slow (it may still pull busybox:1.36)")
        output = _request(what, self.api.read_namespaced_pod_log, pod, self.namespace, container=name) or ""
        files: dict[str, str] = {}
        for chunk in output.split(separator + " ./")[1:]:
            path, _, text = chunk.partition("\n")
            files[path] = text[:-1] if text.endswith("\n") else text
        return files

    def image_digests(self, image: str) -> set[str] | None:
        return None  # a cluster resolves a tag when it pulls: compare what runs (imageID) instead


def _request(what: str, method: Callable[..., Any], *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
    """One API call with a deadline; InfraError when it fails (None for a 404 when missing_ok)."""
    try:
        return method(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
    except ApiException as error:
        if missing_ok and error.status == 404:
            return None
        raise _infra(what, error)
    except NETWORK_ERRORS as error:
        raise _infra(what, error)


def pod_state(pod: client.V1Pod, api: client.ApiClient) -> PodState:
    statuses = {s.name: s for s in (pod.status.container_statuses or [])} if pod.status else {}
    containers = tuple(_container_state(c.name, c.image, statuses.get(c.name)) for c in pod.spec.containers)
    # native sidecars (initContainers with restartPolicy: Always) are containers of the Pod for every check
    sidecars = [c for c in pod.spec.init_containers or [] if getattr(c, "restart_policy", None) == "Always"]
    if sidecars and pod.status:
        statuses.update({s.name: s for s in pod.status.init_container_statuses or []})
        containers += tuple(_container_state(c.name, c.image, statuses.get(c.name)) for c in sidecars)
    # what really runs: the runtime's image ID (repo@sha256:...), whatever the image string said
    containers = tuple(replace(c, image_id=getattr(statuses.get(c.name), "image_id", "") or "") for c in containers)
    return PodState(name=pod.metadata.name, phase=(pod.status.phase if pod.status else None) or "Pending",
                    labels=dict(pod.metadata.labels or {}), spec=api.sanitize_for_serialization(pod.spec),
                    containers=containers, terminating=pod.metadata.deletion_timestamp is not None)


def _container_state(name: str, image: str, status: client.V1ContainerStatus | None) -> ContainerState:
    if status is None or status.state is None:
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    last = status.last_state.terminated if status.last_state else None
    common = dict(restarts=status.restart_count or 0, exit_code=last.exit_code if last else None)
    if status.state.running:
        return ContainerState(name, image, running=True, ready=bool(status.ready), **common)
    if status.state.waiting:
        waiting = status.state.waiting
        return ContainerState(name, image, running=False, ready=False, reason=waiting.reason or "",
                              message=waiting.message or "", **common)
    terminated = status.state.terminated
    return ContainerState(name, image, running=False, ready=False, reason=terminated.reason or "Terminated",
                          message=terminated.message or f"exited with code {terminated.exit_code}",
                          restarts=common["restarts"], exit_code=terminated.exit_code)


def exec_status(error_channel: str) -> tuple[int, str]:
    """Exit code of an exec from the API's error channel, and the API's message when it is no exit code.

    Success -> 0; `NonZeroExitCode` -> the code in details.causes; a program that could not be started
    (not in the image) -> 127, as a shell says; anything else -> 126 with the API's message.
    """
    if not error_channel.strip():
        return 0, ""
    try:
        status = json.loads(error_channel)
    except ValueError:
        return 126, error_channel
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", 126)), ""
    message = status.get("message", "")
    if "executable file not found" in message or "no such file or directory" in message:
        return NOT_FOUND, message
    return 126, message


def _api_message(error: ApiException) -> str:
    try:
        return json.loads(error.body or "{}").get("message") or error.reason or str(error.status)
    except ValueError:
        return error.reason or str(error.status)


def _infra(what: str, error: Exception) -> InfraError:
    detail = f"{error.status} {_api_message(error)}" if isinstance(error, ApiException) else str(error)
    return InfraError(f"the Kubernetes API failed while trying to {what}: {detail}",
                      fix="check that the cluster is up (`kubectl cluster-info`) and run again")


def check_reachable(api: client.ApiClient, where: str, tried: list[str], fix: str) -> str:
    """The cluster's version, or InfraError when its API server does not answer."""
    try:
        return client.VersionApi(api).get_code(_request_timeout=REQUEST_TIMEOUT).git_version
    except (ApiException, *NETWORK_ERRORS) as error:
        raise InfraError(f"the Kubernetes API of {where} does not answer: {error}", tried=tried, fix=fix)


def reap_stale_namespaces(api: client.ApiClient, older_than: float) -> list[str]:
    """Delete the namespaces of runs that were killed (ours by label, started over older_than s ago)."""
    core, what = client.CoreV1Api(api), "remove the namespaces of killed runs"
    namespaces = _request(what, core.list_namespace, label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY}").items
    now = time.time()
    stale = [ns.metadata.name for ns in namespaces
             if is_stale(ns.metadata.labels, older_than, now) and not ns.metadata.deletion_timestamp]
    for name in stale:
        _request(what, core.delete_namespace, name, missing_ok=True)
    return [f"namespace {name}" for name in stale]


def sandbox_namespace(lab_id: str, run_id: str) -> str:
    return f"k8s101-{lab_id.replace('.', '-')}-{run_id}"
