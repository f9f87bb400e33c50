"""Evidence from the grader's side on a cluster: an exec's output, a page through the API server's pod
proxy, a volume's files and the Pod's own answers read by a grader-owned ephemeral container, the
images and labels of the nodes. What a Pod prints or serves is read within bounds."""

from __future__ import annotations

import shlex
import time
import uuid
from typing import AbstractSet, Any, Callable
from urllib.parse import quote

import websocket
from kubernetes import client
from kubernetes.stream import stream, ws_client
from kubernetes.client.rest import ApiException
from kubernetes.stream.ws_client import ERROR_CHANNEL
from websocket import WebSocketException

from graders import images
from graders.backends.base import MAX_VOLUME_BYTES, ExecResult, HttpResponse
from graders.backends.kube.calls import REQUEST_TIMEOUT, call, get, request
from graders.backends.kube.connection import exec_limits
from graders.backends.kube.errors import (
    NETWORK_ERRORS, APIError, Forbidden, NotFound, Unauthorized, api_error, infra, status_body)
from graders.backends.kube.state import exec_status, pull_is_fatal
from graders.errors import InfraError, interrupted
from graders.waiting import NotYet, until

EPHEMERAL_PULL_TIMEOUT = 180.0  # seconds the node may take to pull the grader's busybox:1.36 (as --timeout-ready)
# Bounds on what the grader reads from a Pod through the API (bytes): what a Pod prints or serves never grows
# the grader's memory beyond them (issue 20, 2). An exec keeps the first EXEC_OUTPUT_LIMIT bytes of each stream
# (a kubelet keeps 10 KiB of a probe's output: k8s.io/kubernetes pkg/probe/exec/exec.go, maxReadLength), logs
# their first LOG_READ_LIMIT bytes (the API's limitBytes), a page through the pod proxy MAX_HTTP_BODY bytes (a
# kubelet reads 10 KiB of a probe's body: pkg/probe/http/http.go, maxRespBodyLength).
EXEC_OUTPUT_LIMIT = 64 * 1024
LOG_READ_LIMIT = 256 * 1024
MAX_HTTP_BODY = 64 * 1024

PROXY_FIX = {
    401: "the kubeconfig's credentials were refused: log in again (`kubectl --context ... get pods` must work)",
    403: "this context may not use the pods/proxy subresource (RBAC): ask the cluster's admin, or grade on the "
         "grader's own kind cluster (--backend kind)",
    429: "the API server is overloaded (API priority and fairness): run again in a minute",
}


class NoTime(Exception):
    """A wait whose own clock ran out before the overall deadline (not retried)."""

    @property
    def observed(self) -> str:
        return str(self)


class PodEvidence:
    """The evidence half of KubernetesSandbox (graders/backends/kube/sandbox.py), which sets these:"""

    PROBE_IMAGE = "busybox:1.36"  # the lab's own image, for the ephemeral container that reads a volume
    api: client.CoreV1Api
    namespace: str
    description: str
    _make_client: Callable[[], client.ApiClient]
    _node_labels: dict[str, frozenset[str]] | None
    _known_digests: dict[str, images.KnownDigests]  # an image's digests, once a node lists them

    def exec(self, pod: str, container: str, argv: list[str], timeout: float) -> ExecResult:
        # stream() patches the client it is given: a fresh client per exec, never shared across threads
        api = client.CoreV1Api(self._make_client())
        what = f"run {' '.join(argv)!r} in container {container} of Pod {pod}"
        try:
            exec_limits.timeout = timeout  # read by BoundedWebSocket.connect() on this thread
            try:
                response = stream(api.connect_get_namespaced_pod_exec, pod, self.namespace, container=container,
                                  command=argv, stderr=True, stdin=False, stdout=True, tty=False,
                                  _preload_content=False)  # read by _read_exec, which keeps a bounded part
            finally:
                del exec_limits.timeout  # the socket keeps it; other websockets get REQUEST_TIMEOUT
        except (ApiException, WebSocketException, OSError) as error:
            api.api_client.close()
            if interrupted.is_set():  # stream() turns Ctrl-C into an ApiException: let the run stop
                raise KeyboardInterrupt from error
            if _timed_out(error):
                raise InfraError(f"the Kubernetes API did not answer within {timeout:g} s while trying to {what}",
                                 fix="check that the cluster is up (`kubectl cluster-info`; Docker Desktop "
                                     "not paused), or raise --timeout-exec if it is slow") from error
            raise infra(what, api_error(error) if isinstance(error, ApiException) else error) from error
        try:
            try:
                stdout, stderr, status = _read_exec(response, timeout)
            except (WebSocketException, OSError) as error:
                raise infra(what, error) from error
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

    def http_get(self, pod: str, port: int, path: str, timeout: float) -> HttpResponse:
        """GET through the API server's pod proxy: /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH?QUERY.
        Not retried: the answer (any status) is the Pod's, judged by the check, or the cluster's own Status."""
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
        found = status_body(text)
        if found is None:
            return None
        message = str(found.get("message") or text[:200])
        if "connection refused" in message:
            return HttpResponse(status=None, error=message)
        if self._pod_answers_so(pod, port, path, text):
            return None  # the Pod's own server wrote that Status: its answer, judged as any other
        raise InfraError(f"the API server of {self.description} answered for Pod {pod}:{port} itself "
                         f"(HTTP {status}: {message}), not with the Pod's own answer",
                         tried=[f"GET through the pod proxy of Pod {pod}, port {port}"],
                         fix=PROXY_FIX.get(status, "check that the cluster's control plane can reach its Pods "
                                                   "(`kubectl get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/`)"
                                                   " and run again"))

    def _pod_answers_so(self, pod: str, port: int, path: str, text: str) -> bool:
        """True when the Pod itself answers the request with this body, asked from inside it by a grader-owned
        ephemeral container (busybox nc: the raw answer, whatever its status; it shares the Pod's network);
        False when it answers otherwise or cannot be asked. Compared byte for byte, not parsed."""
        request_line = "GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n"
        target = shlex.quote("/" + path.lstrip("/"))
        script = f"printf '{request_line}' {target} | nc -w {REQUEST_TIMEOUT} 127.0.0.1 {int(port)}"
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
        request(what, self.api.patch_namespaced_pod_ephemeralcontainers, pod, self.namespace, body,
                _content_type="application/strategic-merge-patch+json")
        started: list[float] = []  # when the reader container left its waiting state (its image is there)
        patched = time.monotonic()

        def finished() -> None:
            found = request(what, self.api.read_namespaced_pod, pod, self.namespace)
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
        return request(what, self.api.read_namespaced_pod_log, pod, self.namespace, container=name,
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
        """The cluster's nodes as raw JSON (a read: ridden out as every read is); None when this context may
        not list them (401, 403, or 404 from a server that hides nodes)."""
        try:
            nodes = call(get, self.api.api_client, "/api/v1/nodes") or {}
        except (Unauthorized, Forbidden, NotFound):
            return None
        except (APIError, *NETWORK_ERRORS) as error:
            raise infra("list the nodes", error) from error
        return list(nodes.get("items") or [])


def _timed_out(error: BaseException) -> bool:
    """Whether an exec's connection failed by its timeout. stream() wraps whatever its websocket raised in
    an ApiException of status 0 (kubernetes/stream/ws_client.py, websocket_call), raised while handling it:
    the websocket's own error is its __context__."""
    while error is not None:
        if isinstance(error, (websocket.WebSocketTimeoutException, TimeoutError)):
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


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
