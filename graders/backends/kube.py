"""The Kubernetes API side of the kind and context backends: the only module that imports the
official `kubernetes` client. One Sandbox is one fresh namespace, deleted with everything in it.

Objects of any kind in graders/backends/resources.py are created, read, listed and deleted the same
way: raw JSON on the kind's REST path, no generated method or model per kind. Pods keep the typed
reads their state needs (container statuses, logs, exec).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import shlex
import threading
import time
import uuid
from urllib.parse import quote
from dataclasses import replace
from pathlib import Path
from typing import AbstractSet, Any, Callable
from urllib.parse import urlparse

import urllib3
import websocket
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential
from websocket import WebSocketException
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream, ws_client
from kubernetes.stream.ws_client import ERROR_CHANNEL

from graders import bounds, images
from graders.backends.base import (
    MANAGED_BY, MANAGED_BY_LABEL, NOT_FOUND, ApplyRejected, ContainerState, ExecResult, PodState, is_stale,
    run_labels)
from graders.backends.base import MAX_VOLUME_BYTES, HttpResponse  # grader-side evidence
from graders.backends.resources import RESOURCES, Resource
from graders.errors import InfraError, interrupted
from graders.versions import LAB_IMAGES
from graders.waiting import NotYet, until

REQUEST_TIMEOUT = 15  # seconds for one API call
EPHEMERAL_PULL_TIMEOUT = 180.0  # seconds the node may take to pull the grader's busybox:1.36 (as --timeout-ready)
RIDE_OUT = 20  # seconds a read retries through a restarting or overloaded API server
NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)

# A pull failure is the student's only when the registry says the image does not exist (or the image
# is not one the lab names): rate limits (429 toomanyrequests), registry timeouts, DNS inside the node
# and a proxy's certificate are the machine's, and the kubelet retries them and usually succeeds.
PULLING = "PullingImage"  # waiting reason for such a pull: not fatal, the checks keep waiting
# waiting reasons of a container the kubelet has not created yet: ContainerCreating, or PodInitializing in
# a Pod with init containers (pkg/kubelet/kubelet_pods.go, convertToAPIContainerStatuses)
NOT_STARTED = ("ContainerCreating", "PodInitializing")
NO_SUCH_IMAGE = ("not found", "manifest unknown", "pull access denied", "invalid reference",
                 "repository does not exist")

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
# 403s of a namespace just made: its default ServiceAccount, or its quota's usage, is not there yet
NOT_YET_403 = ('serviceaccount "default" not found', "status unknown for quota")
# 403s for a Pod beyond the run's own LimitRange, ResourceQuota or Pod Security level (the namespace's
# baseline): the submission's, in the admission plugin's words; the offline policy refuses these first
OVER_OUR_BOUNDS = ("usage per Container is", "usage per Pod is",
                   f"exceeded quota: {RESOURCE_QUOTA['metadata']['name']}", 'violates PodSecurity "baseline:')


Configuration = client.Configuration  # for the other backend modules' type hints: they never import the client


def load_configuration(kubeconfig: Path | None, context: str | None) -> client.Configuration:
    """The client settings of one kubeconfig context, read once (a credential plugin runs here).

    A loopback API server (kind's https://127.0.0.1:PORT) is never reached through a proxy, as kubectl
    does: the client would otherwise send it to $HTTPS_PROXY or the system proxy (macOS, Windows).
    """
    configuration = type.__call__(client.Configuration)  # as new_client_from_config: not the default copy
    try:
        config.load_kube_config(config_file=str(kubeconfig) if kubeconfig else None, context=context,
                                client_configuration=configuration)
    except (config.ConfigException, OSError, ValueError) as error:
        raise InfraError(f"cannot load the kubeconfig context {context!r}: {error}",
                         tried=[f"kubeconfig {kubeconfig or '~/.kube/config (or $KUBECONFIG)'}"],
                         fix="`kubectl config get-contexts` lists the contexts you can name with --context") from error
    if is_loopback(configuration.host):
        configuration.proxy = None
    return configuration


def api_client(kubeconfig: Path | None, context: str | None) -> client.ApiClient:
    """A client for one kubeconfig context; the process environment is left alone."""
    return client.ApiClient(load_configuration(kubeconfig, context))


def client_for(configuration: client.Configuration) -> client.ApiClient:
    """A new client (its own connection pool) on settings already loaded: no credential plugin runs."""
    return client.ApiClient(configuration)


def is_loopback(url: str | None) -> bool:
    host = (urlparse(url or "").hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_exec_limits = threading.local()  # the timeout of the exec running on this thread


class _BoundedWebSocket(websocket.WebSocket):
    """The websocket that stream() opens for an exec, with the exec's timeout and kubectl's proxy rule.

    websocket-client 1.9 ignores websocket.setdefaulttimeout() in WebSocket().connect(), and the
    kubernetes client passes no timeout: an API server that accepts and never answers (Docker Desktop
    paused, a laptop resuming) would block the run for ever. The timeout given here bounds the connect,
    the handshake and every later read. Without proxy options, websocket-client reads $https_proxy
    and $no_proxy itself (NO_PROXY=localhost does not cover 127.0.0.1), and it reads http_no_proxy
    only next to an http_proxy_host: a loopback server is named as both, so no proxy is used.
    """

    def connect(self, url: str, **options: Any) -> None:
        options.setdefault("timeout", getattr(_exec_limits, "timeout", REQUEST_TIMEOUT))
        parsed = urlparse(url)
        if is_loopback(url) and parsed.hostname:
            options.update(http_proxy_host=parsed.hostname, http_proxy_port=parsed.port or 443,
                           http_no_proxy=[parsed.hostname])
        super().connect(url, **options)


# stream() builds its websocket in ws_client.create_websocket(), which gives no way to pass options
ws_client.WebSocket = _BoundedWebSocket  # type: ignore[misc]  # replacing the class is the point


class ClusterBackend:
    """What the kind and context backends share once they reach a cluster: a sandbox is a namespace.

    One client configuration serves the whole run: loading a kubeconfig may run a credential plugin
    (gke-gcloud-auth-plugin takes seconds), so it is never loaded again per sandbox or per exec.
    """

    name = "cluster"

    def __init__(self, configuration: client.Configuration, where: str,
                 progress: Callable[[str], None] | None = None) -> None:
        self._make_client = lambda: client_for(configuration)
        self.where = where
        self.progress = progress

    def open_sandbox(self, lab_id: str, run_id: str) -> "KubernetesSandbox":
        return KubernetesSandbox(self._make_client, sandbox_namespace(lab_id, run_id), run_id, where=self.where,
                                 progress=self.progress, version=getattr(self, "version", ""))

    def reap_stale(self, older_than: float) -> list[str]:
        return reap_stale_namespaces(self._make_client(), older_than)

    def close(self) -> None:
        pass


class KubernetesSandbox:
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
        _request(f"create the namespace {namespace}", self.api.create_namespace,
                 {"metadata": {"name": namespace, "labels": {**self.labels, **POD_SECURITY}}})
        for kind, plural, body in (("LimitRange", "limitranges", LIMIT_RANGE),
                                   ("ResourceQuota", "resourcequotas", RESOURCE_QUOTA)):
            _request(f"create the {kind} of {namespace}", _post, self.api.api_client,
                     f"/api/v1/namespaces/{namespace}/{plural}",
                     {"apiVersion": "v1", "kind": kind, **body,
                      "metadata": {**body["metadata"], "labels": self.labels}})

    # -- Sandbox ----------------------------------------------------------------------------------
    def apply(self, pod: dict[str, Any], timeout: float) -> None:
        name = str((pod.get("metadata") or {}).get("name"))
        kind = str(pod.get("kind") or "Pod")
        try:
            self._apply(pod, _resource(kind), f"{kind} {name}", timeout)
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
                _post(self.api.api_client, resource.path(self.namespace), body)
            except ApiException as error:
                message = _api_message(error)
                if error.status == 403 and any(words in message for words in NOT_YET_403):
                    raise NotYet(message) from error  # a fresh namespace: its ServiceAccount or quota status comes soon
                if error.status == 403 and any(words in message for words in OVER_OUR_BOUNDS):
                    raise ApplyRejected(f"{error.status} {error.reason}: {message}") from error
                if error.status == 403:
                    raise InfraError(f"the cluster's policy refused {name}: {message}",
                                     tried=[f"creating {name} in {self.description}"],
                                     fix="this cluster forbids what the lab needs (RBAC, a quota or a Pod "
                                         "Security level above baseline): grade on the grader's own kind "
                                         "cluster (--backend kind) or ask the cluster's admin") from error
                if error.status in (400, 409, 422):
                    raise ApplyRejected(f"{error.status} {error.reason}: {message}") from error
                raise _infra(f"create {name}", error) from error
            except NETWORK_ERRORS as error:
                raise _infra(f"create {name}", error) from error

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
        resource = _resource(kind)
        return _request(f"read {kind} {name}", _get, self.api.api_client, resource.path(self.namespace, name),
                        missing_ok=True)

    def state(self, pod: str) -> PodState | None:
        found = _request(f"read Pod {pod}", self.api.read_namespaced_pod, pod, self.namespace, missing_ok=True)
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

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        # stream() patches the client it is given: a fresh client per exec, never shared across threads
        api = client.CoreV1Api(self._make_client())
        what = f"run {' '.join(argv)!r} in container {container} of Pod {pod}"
        try:
            _exec_limits.timeout = timeout  # read by _BoundedWebSocket.connect() on this thread
            try:
                response = stream(api.connect_get_namespaced_pod_exec, pod, self.namespace, container=container,
                                  command=argv, stderr=True, stdin=False, stdout=True, tty=False,
                                  _preload_content=False)  # read by _read_exec, which keeps a bounded part
            finally:
                del _exec_limits.timeout  # the socket keeps it; other websockets get REQUEST_TIMEOUT
        except (ApiException, WebSocketException, OSError) as error:
            api.api_client.close()
            if interrupted.is_set():  # stream() turns Ctrl-C into an ApiException: let the run stop
                raise KeyboardInterrupt from error
            if "timed out" in str(error).lower():
                raise InfraError(f"the Kubernetes API did not answer within {timeout:g} s while trying to {what}",
                                 fix="check that the cluster is up (`kubectl cluster-info`; Docker Desktop "
                                     "not paused), or raise --timeout-exec if it is slow") from error
            raise _infra(what, error) from error
        try:
            try:
                stdout, stderr, status = _read_exec(response, timeout)
            except (WebSocketException, OSError) as error:
                raise _infra(what, error) from error
            if response.is_open():
                raise InfraError(f"the command did not finish within {timeout:g} s while trying to {what}",
                                 fix="raise --timeout-exec if the cluster is slow")
            exit_code, message = exec_status(status)
            return ExecResult(exit_code, stdout, stderr + message)
        finally:
            response.close()
            api.api_client.close()

    def first_process_status(self, pod: str, container: str, timeout: float) -> str | None:
        """Read through the container (a cluster has no other way in): the image's `cat` answers."""
        result = self.exec(pod, container, ["cat", "/proc/1/status"], timeout=timeout)
        return result.stdout if result.exit_code == 0 else None

    def logs(self, pod: str, container: str, tail: int = 20) -> str:
        """The container's last lines; '' only when it has not started. Any other failure is the
        cluster's (InfraError): an empty log would fail a check that reads the logs for evidence."""
        try:
            return self.api.read_namespaced_pod_log(pod, self.namespace, container=container, tail_lines=tail,
                                                    limit_bytes=LOG_READ_LIMIT, _request_timeout=REQUEST_TIMEOUT) or ""
        except ApiException as error:
            if error.status == 400 and "waiting to start" in _api_message(error):
                return ""  # no logs yet (container not started): nothing to show
            raise _infra(f"read the logs of container {container} of Pod {pod}", error) from error
        except NETWORK_ERRORS as error:
            raise _infra(f"read the logs of container {container} of Pod {pod}", error) from error

    def events(self, pod: str) -> list[str]:
        try:
            found = self.api.list_namespaced_event(self.namespace, field_selector=f"involvedObject.name={pod}",
                                                   _request_timeout=REQUEST_TIMEOUT)
        except (ApiException, *NETWORK_ERRORS):
            return []  # diagnostics only: a failure to read them must not hide the failure they explain
        items = sorted(found.items, key=lambda e: str(e.last_timestamp or e.event_time or ""))
        return [f"{e.type} {e.reason}: {e.message}" for e in items]

    def delete(self, pod: str, grace_seconds: int | None, timeout: float, kind: str = "Pod") -> bool:
        if kind == "Pod":
            _request(f"delete Pod {pod}", self.api.delete_namespaced_pod, pod, self.namespace,
                     grace_period_seconds=grace_seconds, missing_ok=True)
        else:
            grace = {} if grace_seconds is None else {"gracePeriodSeconds": grace_seconds}
            _request(f"delete {kind} {pod}", _delete, self.api.api_client, _resource(kind).path(self.namespace, pod),
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
        resource = _resource(kind)
        found = _request(f"list the {resource.plural} of {self.namespace}", _get, self.api.api_client,
                         resource.path(self.namespace), missing_ok=True)
        return [item["metadata"]["name"] for item in (found or {}).get("items") or []]

    def close(self) -> None:
        """Delete the run's Pods at once (grace 0), then the namespace, without waiting for either.

        A namespace deletion alone gives each Pod its own grace period (30 s for a sidecar whose PID 1
        ignores SIGTERM) and keeps the namespace Terminating meanwhile, which counts against quotas.
        """
        try:
            for pod in self._pod_names():
                _request(f"delete Pod {pod}", self.api.delete_namespaced_pod, pod, self.namespace,
                         grace_period_seconds=0, missing_ok=True, _preload_content=False)  # no model: as above
            _request(f"delete the namespace {self.namespace}", self.api.delete_namespace, self.namespace,
                     grace_period_seconds=0, missing_ok=True)
        finally:
            self.api.api_client.close()

    # -- evidence from the grader's side --------------------------------------------------------------
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
            text = _read_body(response.response, time.monotonic() + max(1.0, timeout)).decode("utf-8", "replace")
        except NETWORK_ERRORS as error:
            return HttpResponse(status=None, error=f"no answer: {error}")
        refusal = self._proxy_refusal(pod, port, response.status, text, "/" + path + (f"?{query}" if query else ""))
        if refusal is not None:
            return refusal
        return HttpResponse(status=response.status, body=text)

    def _proxy_refusal(self, pod: str, port: int, status: int, text: str, path: str) -> HttpResponse | None:
        """None when the answer is the Pod's own; "no answer" when the API server found nothing listening.

        The pod proxy passes the Pod's answer through, whatever its status. The API server's own answers
        are a v1 Status (apimachinery's responsewriters): 401/403 (RBAC on pods/proxy), 429 (API priority
        and fairness), 500, and 502/503 when it could not reach the Pod (the proxy's "error trying to reach
        service: dial tcp IP:PORT: ..."; k8s.io/apimachinery pkg/util/proxy, upgradeaware.go). Only a
        refused connection says that nothing listens on the port, which is the student's; a dial timeout,
        no route, or any other Status is the cluster's (InfraError naming it), never the Pod's answer.
        A Pod's own server can answer with a Status too (to turn its check into "no points lost"): before it is
        called the cluster's, the same request is made from inside the Pod by a grader-owned container."""
        status_body = _status_body(text)
        if status_body is None:
            return None
        message = str(status_body.get("message") or text[:200])
        if "connection refused" in message:
            return HttpResponse(status=None, error=message)
        if self._pod_answers_so(pod, port, path, text):
            return None  # the Pod's own server wrote that Status: its answer, judged as any other
        raise InfraError(f"the API server of {self.description} answered for Pod {pod}:{port} itself "
                         f"(HTTP {status}: {message}), not with the Pod's own answer",
                         tried=[f"GET through the pod proxy of Pod {pod}, port {port}"],
                         fix=_PROXY_FIX.get(status, "check that the cluster's control plane can reach its Pods "
                                                    "(`kubectl get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/`)"
                                                    " and run again"))

    def _pod_answers_so(self, pod: str, port: int, path: str, text: str) -> bool:
        """True when the Pod itself answers the request with this body, asked from inside it by a grader-owned
        ephemeral container (busybox nc: the raw answer, whatever its status; it shares the Pod's network);
        False when it answers otherwise or cannot be asked. Compared byte for byte, not parsed."""
        request = "GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n"
        target = shlex.quote("/" + path.lstrip("/"))
        script = f"printf '{request}' {target} | nc -w {REQUEST_TIMEOUT} 127.0.0.1 {int(port)}"
        try:
            inside = self._ephemeral_output(pod, script, f"ask Pod {pod} on port {port} from inside it",
                                            REQUEST_TIMEOUT, limit_bytes=len(text.encode()) + 64 * 1024)
        except InfraError:
            return False
        _, separator, body = inside.replace("\r\n", "\n").partition("\n\n")
        return bool(separator) and body.strip() == text.strip()

    def tcp_open(self, pod: str, port: int, timeout: float) -> bool:
        """Only approximated through the pod proxy (any HTTP answer); the kubelet runs tcpSocket probes."""
        return self.http_get(pod, port, "/", timeout).status is not None

    def volume_files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        """An ephemeral container of the lab's busybox image mounts the volume read-only and prints its
        regular files (never following symlinks nor opening FIFOs); its logs are read through the API.
        Each file is introduced by a random separator the Pod's own programs cannot know."""
        separator = f"=={uuid.uuid4().hex}=="
        script = (f'cd /grader-volume && find . -type f | head -100 | while read -r f; do '
                  f'echo "{separator} $f"; tail -c {MAX_VOLUME_BYTES} "$f"; echo; done')
        output = self._ephemeral_output(
            pod, script, f"read volume {volume} of Pod {pod}", timeout, limit_bytes=100 * (MAX_VOLUME_BYTES + 4096),
            mounts=[{"name": volume, "mountPath": "/grader-volume", "readOnly": True}])  # the script's 100 files
        files: dict[str, str] = {}
        for chunk in output.split(separator + " ./")[1:]:
            path, _, text = chunk.partition("\n")
            files[path] = text[:-1] if text.endswith("\n") else text
        return files

    def _ephemeral_output(self, pod: str, script: str, what: str, timeout: float, limit_bytes: int,
                          mounts: list[dict[str, Any]] | None = None) -> str:
        """What a grader-owned ephemeral container of the lab's busybox image prints running `script` inside the
        Pod (its network; `mounts` of its volumes), read through the API: evidence from the grader's side where a
        cluster gives no other way into a Pod."""
        name = f"grader-{uuid.uuid4().hex[:8]}"
        body = {"spec": {"ephemeralContainers": [{
            "name": name, "image": self.PROBE_IMAGE, "command": ["sh", "-c", script], "volumeMounts": mounts or [],
            "securityContext": {"allowPrivilegeEscalation": False}}]}}
        _request(what, self.api.patch_namespaced_pod_ephemeralcontainers, pod, self.namespace, body,
                 _content_type="application/strategic-merge-patch+json")
        started: list[float] = []  # when the reader container left its waiting state (its image is there)
        patched = time.monotonic()

        def finished() -> None:
            found = _request(what, self.api.read_namespaced_pod, pod, self.namespace)
            statuses = {s.name: s for s in (found.status.ephemeral_container_statuses or [])} if found.status else {}
            state = getattr(statuses.get(name), "state", None)
            if state is not None and state.terminated:
                return
            waiting = state.waiting if state is not None else None
            if state is not None and state.running and not started:
                started.append(time.monotonic())
            if waiting is not None and waiting.reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName") \
                    and pull_is_fatal(self.PROBE_IMAGE, waiting.message or ""):
                raise InfraError(f"the grader's own image {self.PROBE_IMAGE} cannot be pulled on {self.description}: "
                                 f"{waiting.message or waiting.reason}",
                                 fix="check the cluster's access to Docker Hub (or its mirror), then run again")
            if started and time.monotonic() - started[0] > timeout:
                raise NoTime(f"the grader's reader container ran for more than {timeout:g} s")
            if waiting is None and not started and time.monotonic() - patched > timeout:
                raise NoTime(f"the cluster did not start the grader's reader container within {timeout:g} s")
            raise NotYet("the grader's reader container has not finished" + ("" if started else (
                f" (waiting: {waiting.reason if waiting is not None else 'not started'}; the node may still "
                f"pull {self.PROBE_IMAGE})")))

        # The exec timeout counts from the reader's start: pulling busybox:1.36 the first time is the node's
        # download (seconds to minutes), as a lab container's first pull is, and has the pull's own bound.
        try:
            until(finished, timeout=EPHEMERAL_PULL_TIMEOUT + timeout)
        except (NotYet, NoTime) as last:
            waited = EPHEMERAL_PULL_TIMEOUT + timeout if isinstance(last, NotYet) else timeout
            raise InfraError(f"could not {what} within {waited:g} s: {last.observed}", fix="raise --timeout-exec "
                             f"if the cluster is slow (it may still pull {self.PROBE_IMAGE})") from None
        return _request(what, self.api.read_namespaced_pod_log, pod, self.namespace, container=name,
                        limit_bytes=limit_bytes) or ""

    def image_digests(self, image: str) -> AbstractSet[str] | None:
        """The digests the cluster's nodes list for the image's tag (status.images: each image's repository
        digests, then its tags; kubelet pkg/kubelet/nodestatus/setters.go, Images). None when no node lists
        it (the kubelet refreshes that list every few tens of seconds, so a first pull may not be there yet)
        or this context may not read nodes: what runs is then not judged by its digest."""
        if image in self._known_digests:
            return self._known_digests[image]
        nodes = self._nodes()
        if nodes is None:
            return None
        found: set[str] = set()
        for node in nodes:
            for entry in (node.get("status") or {}).get("images") or []:
                names = [str(name) for name in entry.get("names") or []]
                if any("@" not in name and images.same_reference(name, image) for name in names):
                    found |= images.digests(names)
        if not found:
            return None
        known = self._known_digests[image] = images.KnownDigests(found, image_ids=False)
        return known

    def running_program(self, pod: str, container: str, image: str, program: str) -> None:
        """Not judged here: a cluster gives the grader no host /proc, and inside the Pod only the image's own
        programs (the student's) could read /proc/1/exe. The checks judge the command's words instead (a
        program taken from a volume is the Pod's own file, graders/checks/pods.py)."""
        return None

    def node_labels(self) -> dict[str, frozenset[str]] | None:
        """Every label value the cluster's nodes carry, by key (read once: nodes do not change in a run).
        None when this context may not list nodes (a namespace-bound account): the checks then assume
        the labels every Linux node carries, rather than failing every check that reads them."""
        if self._node_labels is None:
            nodes = self._nodes()
            if nodes is None:
                self._node_labels = {}
                return None
            found: dict[str, set[str]] = {}
            for node in nodes:
                for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
                    found.setdefault(key, set()).add(str(value))
            self._node_labels = {key: frozenset(values) for key, values in found.items()}
        return self._node_labels or None

    def _nodes(self) -> list[dict[str, Any]] | None:
        """The cluster's nodes as raw JSON; None when this context may not list them."""
        try:
            nodes = _get(self.api.api_client, "/api/v1/nodes", _request_timeout=REQUEST_TIMEOUT) or {}
        except ApiException as error:
            if error.status in (401, 403, 404):
                return None
            raise _infra("list the nodes", error) from error
        except NETWORK_ERRORS as error:
            raise _infra("list the nodes", error) from error
        return list(nodes.get("items") or [])


_PROXY_FIX = {
    401: "the kubeconfig's credentials were refused: log in again (`kubectl --context ... get pods` must work)",
    403: "this context may not use the pods/proxy subresource (RBAC): ask the cluster's admin, or grade on the "
         "grader's own kind cluster (--backend kind)",
    429: "the API server is overloaded (API priority and fairness): run again in a minute",
}


def _status_body(text: str) -> dict[str, Any] | None:
    """The API server's v1 Status in a body, or None when the body is anything else (the Pod's own)."""
    if '"Status"' not in text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if isinstance(found, dict) and found.get("kind") == "Status" and found.get("apiVersion") == "v1":
        return found
    return None


class NoTime(Exception):
    """A wait whose own clock ran out before the overall deadline (not retried)."""

    @property
    def observed(self) -> str:
        return str(self)


# Bounds on what the grader reads from a Pod through the API (bytes): what a Pod prints or serves never grows
# the grader's memory beyond them (issue 20, 2). An exec keeps the first EXEC_OUTPUT_LIMIT bytes of each stream
# (a kubelet keeps 10 KiB of a probe's output: k8s.io/kubernetes pkg/probe/exec/exec.go, maxReadLength), logs
# their first LOG_READ_LIMIT bytes (the API's limitBytes), a page through the pod proxy MAX_HTTP_BODY bytes (a
# kubelet reads 10 KiB of a probe's body: pkg/probe/http/http.go, maxRespBodyLength).
EXEC_OUTPUT_LIMIT = 64 * 1024
LOG_READ_LIMIT = 256 * 1024
MAX_HTTP_BODY = 64 * 1024


def _read_exec(response: Any, timeout: float) -> tuple[str, str, str]:
    """(stdout, stderr, the error channel) of an exec's websocket (a ws_client.WSClient), read frame by frame
    until it closes or `timeout` passes, each channel kept to EXEC_OUTPUT_LIMIT bytes: WSClient.run_forever keeps
    everything (twice: per channel and in read_all's buffer), and its update() reads as long as frames keep
    coming (a flood). Its own buffers are never filled here."""
    kept: dict[int, bytearray] = {ws_client.STDOUT_CHANNEL: bytearray(), ws_client.STDERR_CHANNEL: bytearray(),
                                  ERROR_CHANNEL: bytearray()}
    deadline = time.monotonic() + timeout
    sock = response.sock
    while response.is_open() and sock.connected and time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
        try:
            opcode, frame = sock.recv_data_frame(True)
        except websocket.WebSocketTimeoutException:
            continue
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            response._connected = False  # as WSClient.update() records it: the exec has ended
            break
        data = frame.data if isinstance(frame.data, bytes) else str(frame.data).encode()
        if opcode in (websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_TEXT) and data and data[0] in kept:
            buffer = kept[data[0]]
            buffer += data[1:1 + max(0, EXEC_OUTPUT_LIMIT - len(buffer))]
    return tuple(kept[channel].decode("utf-8", "replace") for channel in  # type: ignore[return-value]
                 (ws_client.STDOUT_CHANNEL, ws_client.STDERR_CHANNEL, ERROR_CHANNEL))


def _read_body(raw: Any, deadline: float) -> bytes:
    """At most MAX_HTTP_BODY bytes of an answer's body (a urllib3 response not yet read), within the deadline;
    the connection is closed after, so an endless or dripping body costs no more."""
    body = bytearray()
    try:
        while len(body) < MAX_HTTP_BODY and time.monotonic() < deadline:
            chunk = raw.read(min(16384, MAX_HTTP_BODY - len(body)))
            if not chunk:
                break
            body += chunk
    finally:
        raw.close()
    return bytes(body)


def _resource(kind: str) -> Resource:
    """Where a kind lives in the API; InfraError for a kind the table lacks (a lab asked for it anyway)."""
    if kind not in RESOURCES:
        raise InfraError(f"the graders cannot create objects of kind {kind} on a cluster yet",
                         fix=f"add {kind} to graders/backends/resources.py (the course staff's task)")
    return RESOURCES[kind]


def _request(what: str, method: Callable[..., Any], *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
    """One API call with a deadline; InfraError when it fails (None for a 404 when missing_ok).

    A GET is safe to repeat (RFC 9110, section 9.2.2): a dropped connection, a 429 or a 5xx (a control
    plane restarting, an overloaded API server) is retried for up to RIDE_OUT seconds before it is reported.
    Writes are not: a create that reached the server before the connection dropped would come back 409."""
    reads = _verb(method) == "GET"
    try:
        for attempt in Retrying(stop=stop_after_delay(RIDE_OUT if reads else 0),
                                wait=wait_exponential(multiplier=0.2, max=2.0),
                                retry=retry_if_exception(_transient), reraise=True):
            with attempt:
                return method(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
    except ApiException as error:
        if missing_ok and error.status == 404:
            return None
        raise _infra(what, error) from error
    except NETWORK_ERRORS as error:
        raise _infra(what, error) from error


def _verb(method: Callable[..., Any]) -> str:
    """The HTTP verb of a call: the raw helpers' own, or the generated client's by its name (read_* and
    list_* are GETs, kubernetes-client/python's generated api/core_v1_api.py)."""
    name = getattr(method, "__name__", "")
    if name in RAW_VERBS:
        return RAW_VERBS[name]
    return "GET" if name.startswith(("read_", "list_")) else "WRITE"


def _transient(error: BaseException) -> bool:
    if interrupted.is_set():
        return False
    if isinstance(error, ApiException):
        return error.status in (429, 500, 502, 503, 504)
    return isinstance(error, NETWORK_ERRORS)


def _post(api: client.ApiClient, path: str, body: dict[str, Any], _request_timeout: float = REQUEST_TIMEOUT) -> Any:
    """POST an object as raw JSON (the generated methods validate bodies with pydantic models, which
    refuse numeric quantities such as `cpu: 1` that kubectl and the API server accept)."""
    return _raw(api, "POST", path, body, _request_timeout)


def _get(api: client.ApiClient, path: str, _request_timeout: float = REQUEST_TIMEOUT) -> Any:
    return _raw(api, "GET", path, None, _request_timeout)


def _delete(api: client.ApiClient, path: str, options: dict[str, Any],
            _request_timeout: float = REQUEST_TIMEOUT) -> Any:
    return _raw(api, "DELETE", path, options, _request_timeout)


RAW_VERBS = {_post.__name__: "POST", _get.__name__: "GET", _delete.__name__: "DELETE"}


def _raw(api: client.ApiClient, method: str, path: str, body: dict[str, Any] | None, timeout: float) -> Any:
    """One API call with JSON in and out, no models: ApiException for an error status."""
    headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if body is not None else {})}
    request = api.param_serialize(method=method, resource_path=path, body=body, auth_settings=["BearerToken"],
                                  header_params=headers)
    response = api.call_api(*request, _request_timeout=timeout)
    response.read()
    text = response.data.decode("utf-8", "replace") if isinstance(response.data, bytes) else response.data
    if not 200 <= response.status <= 299:
        raise ApiException(status=response.status, reason=response.reason, body=text)
    return json.loads(text or "null")


def pod_state(pod: client.V1Pod, api: client.ApiClient) -> PodState:
    spec, metadata = pod.spec, pod.metadata
    assert spec is not None and metadata is not None, "the API server sends every Pod with both"
    statuses = {s.name: s for s in (pod.status.container_statuses or [])} if pod.status else {}
    inits = {s.name: s for s in (pod.status.init_container_statuses or [])} if pod.status else {}
    containers = tuple(_container_state(c.name, c.image or "", statuses.get(c.name)) for c in spec.containers)
    # native sidecars (initContainers with restartPolicy: Always) are containers of the Pod for every check;
    # the other init containers run to completion first and are reported beside them, by name: while one
    # of them fails, the containers only wait in PodInitializing
    sidecars = [c for c in spec.init_containers or [] if getattr(c, "restart_policy", None) == "Always"]
    ordinary = [c for c in spec.init_containers or [] if getattr(c, "restart_policy", None) != "Always"]
    containers += tuple(_container_state(c.name, c.image or "", inits.get(c.name)) for c in sidecars)
    init_containers = tuple(_container_state(c.name, c.image or "", inits.get(c.name)) for c in ordinary)
    # what really runs: the runtime's image ID (repo@sha256:...), whatever the image string said
    ids = {**{name: getattr(s, "image_id", "") or "" for name, s in inits.items()},
           **{name: getattr(s, "image_id", "") or "" for name, s in statuses.items()}}
    containers = tuple(replace(c, image_id=ids.get(c.name, "")) for c in containers)
    init_containers = tuple(replace(c, image_id=ids.get(c.name, "")) for c in init_containers)
    return PodState(name=metadata.name or "", phase=(pod.status.phase if pod.status else None) or "Pending",
                    labels=dict(metadata.labels or {}), spec=api.sanitize_for_serialization(spec),
                    containers=containers, terminating=metadata.deletion_timestamp is not None,
                    init_containers=init_containers)


def _container_state(name: str, image: str, status: client.V1ContainerStatus | None) -> ContainerState:
    if status is None or status.state is None:  # no status yet: the kubelet has not looked at the Pod
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    last = status.last_state.terminated if status.last_state else None
    restarts, exit_code = status.restart_count or 0, last.exit_code if last else None
    if status.state.running:
        return ContainerState(name, image, running=True, ready=bool(status.ready), restarts=restarts,
                              exit_code=exit_code)
    if status.state.waiting:
        waiting = status.state.waiting
        reason, message = waiting.reason or "", waiting.message or ""
        if reason in ("ErrImagePull", "ImagePullBackOff") and not pull_is_fatal(image, message):
            reason = PULLING
        return ContainerState(name, image, running=False, ready=False, reason=reason, message=message,
                              restarts=restarts, exit_code=exit_code)
    terminated = status.state.terminated
    if terminated is None:  # no state set: the API's default is waiting
        return ContainerState(name, image, running=False, ready=False, reason="ContainerCreating")
    return ContainerState(name, image, running=False, ready=False, reason=terminated.reason or "Terminated",
                          message=terminated.message or f"exited with code {terminated.exit_code}",
                          restarts=restarts, exit_code=terminated.exit_code)


def pull_is_fatal(image: str, message: str) -> bool:
    """True when a failed pull is the student's: an image the lab does not name, or a registry that
    says it does not exist. ImagePullBackOff's message ("Back-off pulling image ...") has no cause:
    for a lab image it is waited on, as the kubelet retries it."""
    if not any(images.same_reference(image, lab) for lab in LAB_IMAGES):
        return True
    return any(words in message.lower() for words in NO_SUCH_IMAGE)


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
        raise InfraError(f"the Kubernetes API of {where} does not answer: {error}", tried=tried, fix=fix) from error


def cluster_problem(api: client.ApiClient) -> str | None:
    """Why a cluster that answers cannot run Pods yet, or None when it can.

    A kind cluster interrupted after kubeadm but before its network plugin answers API calls while
    its node stays NotReady and CoreDNS stays Pending: the lab's Pods would never start.
    """
    nodes = _get(api, "/api/v1/nodes").get("items") or []
    if not nodes:
        return NO_NODE
    for node in nodes:
        conditions = {c.get("type"): c for c in (node.get("status") or {}).get("conditions") or []}
        ready = conditions.get("Ready") or {}
        if ready.get("status") != "True":
            why = ready.get("message") or ready.get("reason") or "no Ready condition"
            return f"node {node['metadata']['name']} is not Ready ({why})"
    for pod in _get(api, "/api/v1/namespaces/kube-system/pods").get("items") or []:
        phase = (pod.get("status") or {}).get("phase") or "Pending"
        if phase == "Pending":  # not Failed: evicted Pods stay Failed while their replacements run
            return f"kube-system Pod {pod['metadata']['name']} is {phase}"
    return None


NO_NODE = "no node has registered"
# kind's network plugin, a DaemonSet in kube-system (kind: pkg/build/nodeimage/const_cni.go)
KINDNET = "/apis/apps/v1/namespaces/kube-system/daemonsets/kindnet"


def kindnet_installed(api: client.ApiClient) -> bool:
    """Whether kind installed its network plugin (its step "Installing CNI" applies the kindnet DaemonSet):
    False only when the API server says it does not exist (404), never on a passing error."""
    try:
        _get(api, KINDNET)
    except ApiException as error:
        return error.status != 404
    except NETWORK_ERRORS:
        return True
    return True


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


NATIVE_SIDECARS_SINCE = 29  # Kubernetes 1.29: SidecarContainers beta, on by default


def server_minor(version: str) -> int | None:
    """29 for v1.29.3, v1.29.3-gke.1 or 1.29+; None when the version says nothing."""
    found = re.match(r"v?1\.(\d+)", version.strip())
    return int(found.group(1)) if found else None


def sandbox_namespace(lab_id: str, run_id: str) -> str:
    return f"k8s101-{lab_id.replace('.', '-')}-{run_id}"
