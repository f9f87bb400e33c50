"""Pods in the fake API server: create (admission, validation, defaults), read, delete with grace
periods, and the log, exec and proxy subresources."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import TYPE_CHECKING, Any, Awaitable, Sequence

from aiohttp import WSMsgType, web

from tests.cluster import admission, patch, spdy
from tests.cluster.defaults import probe_defaults
from tests.cluster.kubelet import SERVER_LABEL, TOKEN_VOLUME, Container, Pod, fired, full_image, now_iso
from tests.cluster.podman import podman, strip_noise
from tests.cluster.probes import http_get
from tests.cluster.responses import matches, not_found, status
from tests.cluster.validation import invalid_message, pod_errors

if TYPE_CHECKING:
    from tests.cluster.api import Cluster

CHANNEL_STDOUT, CHANNEL_STDERR, CHANNEL_ERROR = 1, 2, 3
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
NOT_RUNNING = {"metadata": {}, "status": "Failure", "reason": "InternalError", "code": 500,
               "message": "Internal error occurred: error executing command in container: container is not created "
                          "or running",
               "details": {"causes": [{"message": "error executing command in container: container is not created "
                                                  "or running"}]}}


class PodsApi:
    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.first_pod_done = False
        self.statuses: dict[str, str] = {}  # uid -> the status last served

    def _find(self, request: web.Request) -> Pod | None:
        return self.cluster.pods.get((request.match_info["ns"], request.match_info["name"].split(":")[0]))

    def _missing(self, request: web.Request) -> web.Response:
        return not_found("pods", request.match_info["name"].split(":")[0])

    def served(self, pod: Pod) -> dict[str, Any]:
        """The Pod as read; its resourceVersion moves whenever its status does (as the kubelet's status
        updates move it), which is what a watch (kubectl wait, get -w) notices."""
        found = pod.status()
        seen = json.dumps(found, sort_keys=True)
        if self.statuses.get(pod.obj["metadata"]["uid"]) != seen:
            self.statuses[pod.obj["metadata"]["uid"]] = seen
            self.cluster.version += 1
            pod.obj["metadata"]["resourceVersion"] = str(self.cluster.version)
        return {**pod.obj, "status": found}

    # -- create ---------------------------------------------------------------------------------------
    async def create(self, request: web.Request) -> web.Response:
        cluster, ns = self.cluster, request.match_info["ns"]
        body = await cluster.body(request)
        if body is None:
            return status(400, "BadRequest", "the body of the request was in an unknown format")
        name = str((body.get("metadata") or {}).get("name") or "")
        refused, warnings = self._field_validation(request, body)
        if refused:
            return refused
        if (body.get("metadata") or {}).get("namespace") not in (None, ns):
            return status(400, "BadRequest",
                           "the namespace of the provided object does not match the namespace sent on the request")
        refused = cluster.namespace_gate(ns, "pods", name)
        if refused:
            return refused
        if not cluster.default_sa_ready(ns):  # ServiceAccount admission, before validation
            if cluster.faults.sa_delay > 1:
                fired("sa-delay", f"pod {name} refused: no default ServiceAccount in {ns} yet")
            return status(403, "Forbidden", f'pods "{name}" is forbidden: error looking up service account '
                                             f'{ns}/default: serviceaccount "default" not found',
                          name=name, kind="pods")
        if int(cluster.faults.server_version.split(".")[1]) < 29:
            # SidecarContainers is off before 1.29: the API server drops restartPolicy from init containers
            # (pkg/api/pod/util.go, dropDisabledFields), it does not refuse it
            for init in (body.get("spec") or {}).get("initContainers") or []:
                if isinstance(init, dict) and init.pop("restartPolicy", None) is not None:
                    fired("server-version", f"restartPolicy of init container {init.get('name')} dropped (1.28)")
        causes = pod_errors(body)
        if causes:
            return status(422, "Invalid", invalid_message("Pod", name, causes), name=name, kind="Pod", causes=causes)
        if (ns, name) in cluster.pods:
            return status(409, "AlreadyExists", f'pods "{name}" already exists', name=name, kind="pods")
        obj = self._admitted(body, ns, name)
        forbidden = admission.validating(cluster, ns, name, obj)  # LimitRanger's max, PodSecurity, ResourceQuota
        if forbidden:
            return status(403, "Forbidden", f'pods "{name}" is forbidden: {forbidden}', name=name, kind="pods")
        pod = cluster.kubelet.start(obj)
        cluster.pods[(ns, name)] = pod
        if not self.first_pod_done:
            self.first_pod_done = True
            if cluster.on_first_pod:
                cluster.background(cluster.on_first_pod())
        return web.json_response(self.served(pod), status=201, headers=warnings)

    def _field_validation(self, request: web.Request, body: dict[str, Any]
                          ) -> tuple[web.Response | None, dict[str, str]]:
        """fieldValidation=Strict: unknown fields are a 400; Warn: a Warning header (patch.py)."""
        directive = request.query.get("fieldValidation", "Warn")
        if directive == "Ignore":
            return None, {}
        unknown = patch.unknown_fields(body, "Pod", self.cluster.minor)
        if not unknown:
            return None, {}
        if directive == "Strict":
            return status(400, "BadRequest", patch.strict_decoding_message("Pod", unknown)), {}
        return None, {"Warning": ", ".join(f'299 - "unknown field \\"{field}\\""' for field in unknown)}

    def _admitted(self, body: dict[str, Any], ns: str, name: str) -> dict[str, Any]:
        """The Pod as the API server stores it: metadata, defaults, the ServiceAccount token volume,
        and LimitRange defaults."""
        cluster = self.cluster
        obj = copy.deepcopy(body)
        obj["apiVersion"], obj["kind"] = "v1", "Pod"
        given = obj.get("metadata") or {}
        obj["metadata"] = {**{k: v for k, v in given.items() if k in ("labels", "annotations")},
                           **cluster.metadata(name, ns)}
        spec = obj["spec"]
        token = f"{TOKEN_VOLUME}{obj['metadata']['uid'][:5]}"
        defaults = {"restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "serviceAccountName": "default", "serviceAccount": "default", "nodeName": "fake-cluster",
                    "schedulerName": "default-scheduler", "securityContext": {}, "enableServiceLinks": True,
                    "priority": 0, "preemptionPolicy": "PreemptLowerPriority"}
        for key, value in defaults.items():
            spec.setdefault(key, value)
        spec["volumes"] = [*(spec.get("volumes") or []), {"name": token, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}]
        # the DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds)
        spec["tolerations"] = [*(spec.get("tolerations") or []), *(
            {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300} for taint in ("not-ready", "unreachable")
            if not any(t.get("key") == f"node.kubernetes.io/{taint}" for t in spec.get("tolerations") or []))]
        limits = self._limit_defaults(ns)
        for c in spec.get("initContainers", []) + spec["containers"]:
            untagged = ":" not in full_image(c["image"]).rsplit("/", 1)[-1]
            c.setdefault("imagePullPolicy", "Always" if untagged or c["image"].endswith(":latest") else "IfNotPresent")
            for port in c.get("ports") or []:  # defaulted by the API server (pkg/apis/core/v1/defaults.go)
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            resources = c.setdefault("resources", {})
            given = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
            if given:  # decoding's defaults first: a limit without its request requests the limit
                resources["requests"] = {**given, **(resources.get("requests") or {})}  # (core/v1/defaults.go)
            for key, values in limits.items():  # then LimitRanger's defaults, for init containers too
                if values:
                    resources[key] = {**values, **(resources.get(key) or {})}
            c["volumeMounts"] = [*(c.get("volumeMounts") or []),
                                 {"name": token, "mountPath": TOKEN_MOUNT, "readOnly": True}]
        admission.quantities_as_strings(spec)
        probe_defaults(spec)
        return obj

    def _limit_defaults(self, ns: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {"limits": {}, "requests": {}}
        for limit_range in self.cluster.stored.get((ns, "limitranges"), {}).values():
            for item in (limit_range.get("spec") or {}).get("limits") or []:
                if item.get("type") == "Container":
                    found["limits"].update(item.get("default") or {})
                    found["requests"].update(item.get("defaultRequest") or {})
        return found

    # -- read ---------------------------------------------------------------------------------------------
    async def get(self, request: web.Request) -> web.Response:
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        await self.cluster.kubelet.refresh(pod)
        return web.json_response(self.served(pod))

    async def list(self, request: web.Request) -> web.Response:
        ns, selector = request.match_info.get("ns"), request.query.get("labelSelector")
        items = [self.served(pod) for (space, _), pod in self.cluster.pods.items()
                 if (ns is None or space == ns) and matches(pod.obj["metadata"].get("labels"), selector)]
        fields = request.query.get("fieldSelector")
        return self.cluster.listing("PodList", [pod for pod in items if self.cluster.fields_match(pod, fields)])

    # -- patch (kubectl apply of a changed file, kubectl label) ------------------------------------------
    async def patch(self, request: web.Request) -> web.Response:
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        body = await self.cluster.body(request)
        if body is None:
            return status(400, "BadRequest", "the body of the request was in an unknown format")
        kind = request.content_type
        patched = patch.apply(pod.obj, body, kind)
        if patched is None:
            return status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                                                       f"accepted media types include: {patch.STRATEGIC}, "
                                                       f"{patch.MERGE} (here; a real server takes JSON patch too)")
        refused, warnings = self._field_validation(request, patched)
        if refused:
            return refused
        causes = patch.pod_update_errors(pod.obj, patched) or [
            cause for cause in pod_errors(patched) if cause["field"].startswith("metadata.")]
        if causes:
            return status(422, "Invalid", invalid_message("Pod", pod.name, causes), name=pod.name, kind="Pod",
                          causes=causes)
        if patched != pod.obj:  # labels, annotations, an image (stored: the fake kubelet does not restart for it)
            metadata = patched["metadata"]
            self.cluster.version += 1
            metadata["resourceVersion"] = str(self.cluster.version)
            pod.obj.clear()
            pod.obj.update(patched)
        return web.json_response(self.served(pod), headers=warnings)

    # -- delete -------------------------------------------------------------------------------------------
    async def delete(self, request: web.Request) -> web.Response:
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        grace = request.query.get("gracePeriodSeconds")
        body = await self.cluster.body(request) or {}
        if grace is None and body.get("gracePeriodSeconds") is not None:
            grace = body["gracePeriodSeconds"]
        if not pod.deleting:
            pod.deleting = True
            seconds = int(pod.obj["spec"].get("terminationGracePeriodSeconds", 30) if grace is None else grace)
            pod.obj["metadata"].setdefault("deletionTimestamp", now_iso())
            pod.obj["metadata"].setdefault("deletionGracePeriodSeconds", seconds)
            self.cluster.background(self.remove(pod, seconds))
        return web.json_response(self.served(pod))

    async def remove(self, pod: Pod, grace: int | None) -> None:
        """The Pod stays, with a deletionTimestamp, until its containers are stopped and removed."""
        if grace is None:
            grace = int(pod.obj["spec"].get("terminationGracePeriodSeconds", 30))
        pod.obj["metadata"].setdefault("deletionTimestamp", now_iso())
        pod.obj["metadata"].setdefault("deletionGracePeriodSeconds", grace)
        try:
            await self.cluster.kubelet.stop(pod, grace)
        finally:
            last = self.served(pod)
            self.cluster.pods.pop((pod.namespace, pod.name), None)
            self.statuses.pop(pod.obj["metadata"]["uid"], None)
            self.cluster.gone("pods", pod.namespace, last)

    # -- logs ----------------------------------------------------------------------------------------------
    def _container(self, request: web.Request, pod: Pod) -> tuple[str | None, web.Response | None]:
        """The container a request names (an init or ephemeral container too), or the API server's 400."""
        name = request.query.get("container")
        names = list(pod.containers)
        inits = [c.get("name") for c in pod.obj["spec"].get("initContainers") or []]
        if name is not None and (name in pod.ephemeral or name in pod.inits):
            return name, None
        if name is None:
            if len(names) == 1:
                return names[0], None
            choices = f" or one of the init containers: [{' '.join(inits)}]" if inits else ""
            return None, status(400, "BadRequest", f"a container name must be specified for pod {pod.name}, "
                                                    f"choose one of: [{' '.join(names)}]{choices}")
        if name not in pod.containers:
            return None, status(400, "BadRequest", f"container {name} is not valid for pod {pod.name}")
        return name, None

    @staticmethod
    def _log_refusal(pod: Pod, c: Container, previous: bool) -> str:
        """validateContainerLogStatus: why there is no log to show yet, in the kubelet's words ("" if there is)."""
        where = f'container "{c.name}" in pod "{pod.name}"'
        if previous:
            return "" if c.last_terminated else f'previous terminated {where} not found'
        if c.state == "running" or c.last_terminated or (c.state == "terminated" and c.played):
            return ""
        reason = c.reason or "ContainerCreating"
        return {"ErrImagePull": f"{where} is waiting to start: image can't be pulled",
                "ImagePullBackOff": f"{where} is waiting to start: trying and failing to pull image"
                }.get(reason, f"{where} is waiting to start: {reason}")

    async def log(self, request: web.Request) -> web.Response:
        """The container's output, of its current run or (`previous=true`) of the run before, as the kubelet
        keeps one log per run (pkg/kubelet/kuberuntime/kuberuntime_container.go GetContainerLogs; the
        messages are pkg/kubelet/kubelet_pods.go validateContainerLogStatus's). podman keeps one log over
        every run of a container: the runs are told apart by the times of its lines."""
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        name, refused = self._container(request, pod)
        if refused:
            return refused
        assert name is not None  # _container refused every other name
        previous = request.query.get("previous") in ("1", "true")
        c = pod.any_container(name)
        assert c is not None  # _container refused every other name
        why = self._log_refusal(pod, c, previous)
        if why:
            return status(400, "BadRequest", why)
        podman_name, since, until = c.podman_name, "", ""
        runs = [0.0, *c.runs_began]  # podman keeps one log over the runs; the kubelet one a run
        if previous and c.state != "waiting":  # the run before the one going on (or that ended last)
            since, until = _iso(runs[-2]) if len(runs) > 1 else "", _iso(runs[-1])
        elif len(runs) > 1:  # the latest run; waiting to restart, the kubelet shows the one that ended
            since = _iso(runs[-1])
        code, out, err = await podman("logs", "-t", podman_name)
        if code != 0:
            if "no such container" in err.lower():
                return status(400, "BadRequest", f'container "{name}" in pod "{pod.name}" is waiting to start: '
                                                  f"PodInitializing")
            return status(500, "InternalError", f"an error on the server has prevented the request: {err.strip()}")
        # podman prints the container's stderr to its own: the stamps put the lines back in order
        lines = sorted(_lines_between(out + "\n" + err, since, until), key=lambda line: _stamp(line.partition(" ")[0]))
        if request.query.get("timestamps") not in ("1", "true"):
            lines = [line.partition(" ")[2] for line in lines]
        if request.query.get("tailLines"):
            lines = lines[-int(request.query["tailLines"]):] if int(request.query["tailLines"]) else []
        return web.Response(text="".join(line + "\n" for line in lines), content_type="text/plain")

    # -- exec ---------------------------------------------------------------------------------------------
    async def exec(self, request: web.Request) -> web.StreamResponse:
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        name, refused = self._container(request, pod)
        if refused:
            return refused
        command = request.query.getall("command", [])
        if not command:
            return status(400, "BadRequest", "you must specify at least 1 command")
        faults = self.cluster.faults
        if faults.exec_stall > 0:  # accepted, never answered: until the client goes away
            faults.exec_stall -= 1
            fired("exec-stall", f"exec {command} in {request.match_info['name']} accepted, never answered")
            while request.transport is not None and not request.transport.is_closing():
                await asyncio.sleep(0.5)
            return web.Response(status=499)
        c = pod.any_container(name) if name else None
        assert c is not None  # _container refused every other name
        if c.state != "running":
            return status(400, "BadRequest", f'unable to upgrade connection: container not found ("{name}")')
        if spdy.wants_spdy(request):  # kubectl 1.29 and older, and the fallback of newer ones
            return await self._exec_spdy(request, c.podman_name, command)
        ws = web.WebSocketResponse(protocols=EXEC_PROTOCOLS)
        await ws.prepare(request)
        result = await self._run(c.podman_name, command, self._client_gone(ws))
        if result is not None:
            out, err, exit_status = result
            if out:
                await ws.send_bytes(bytes([CHANNEL_STDOUT]) + out)
            if err:
                await ws.send_bytes(bytes([CHANNEL_STDERR]) + err)
            await ws.send_bytes(bytes([CHANNEL_ERROR]) + json.dumps(exit_status).encode())
            await ws.close()
        return ws

    async def _exec_spdy(self, request: web.Request, podman_name: str, command: Sequence[str]) -> web.StreamResponse:
        """The same exec over SPDY: the client's streams, then stdout, stderr and the v1 Status, each to its FIN."""
        if spdy.chosen_protocol(request) is None:
            return status(403, "Forbidden", "unable to upgrade connection: the client offers no stream protocol "
                                             f"this server speaks ({', '.join(spdy.PROTOCOLS)})")
        response, session = await spdy.upgrade(request, spdy.PROTOCOLS[0])
        tty = request.query.get("tty") in ("1", "true")
        wanted = {"error"} | {kind for kind in ("stdin", "stdout", "stderr")
                              if request.query.get(kind) in ("1", "true") and not (tty and kind == "stderr")}
        try:
            if not await session.wait_for(wanted | ({"resize"} if tty else set()), timeout=30):
                return response
            result = await self._run(podman_name, command, session.closed.wait())
            if result is not None:
                out, err, exit_status = result
                session.send("stdout", out, fin=True)
                session.send("stderr", err, fin=True)
                session.send("error", json.dumps(exit_status).encode(), fin=True)
                try:  # the client hangs up once it has read all three
                    await asyncio.wait_for(session.closed.wait(), 10)
                except asyncio.TimeoutError:
                    pass
        finally:
            session.transport.close()
        return response

    async def _run(self, podman_name: str, command: Sequence[str], gone: Awaitable[Any]
                   ) -> tuple[bytes, bytes, dict[str, Any]] | None:
        """The command's stdout, stderr and v1 Status as the kubelet reports them; None when the client
        went away first (the command is then stopped)."""
        process = await asyncio.create_subprocess_exec(
            "podman", "exec", podman_name, *command, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        finished = asyncio.ensure_future(process.communicate())
        hung_up = asyncio.ensure_future(gone)
        await asyncio.wait({finished, hung_up}, return_when=asyncio.FIRST_COMPLETED)
        if not finished.done():  # the client hung up: stop the command
            process.kill()
            await finished
            return None
        hung_up.cancel()
        out, raw_err = finished.result()
        err = strip_noise(raw_err.decode(errors="replace"))
        code = process.returncode or 0
        not_found = code in (125, 126, 127) and ("executable file not found" in err
                                                 or "no such file or directory" in err)
        if code == 255 and "container state improper" in err:  # it exited since the last look
            return b"", b"", NOT_RUNNING
        if not_found:
            return b"", b"", self._execstatus(code, command, err, not_found)
        return out, err.encode(), self._execstatus(code, command, err, not_found)

    @staticmethod
    async def _client_gone(ws: web.WebSocketResponse) -> None:
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                return

    @staticmethod
    # Sequence, not list: `list` in this class is the method of that name
    def _execstatus(code: int, command: Sequence[str], err: str, not_found: bool) -> dict[str, Any]:
        """The v1 Status on the error channel, as the kubelet (with containerd) writes it."""
        if code == 0:
            return {"metadata": {}, "status": "Success"}
        if not_found:
            message = (f'error executing command in container: failed to exec in container: failed to start exec: '
                       f'OCI runtime exec failed: exec failed: unable to start container process: exec: '
                       f'"{command[0]}": executable file not found in $PATH: unknown')
            return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {message}",
                    "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500}
        return {"metadata": {}, "status": "Failure",
                "message": f"command terminated with non-zero exit code: error executing command {command}: "
                           f"command terminated with exit code {code}",
                "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}

    # -- ephemeral containers ---------------------------------------------------------------------------
    async def ephemeral(self, request: web.Request) -> web.Response:
        """PATCH or PUT pods/NAME/ephemeralcontainers: new entries of spec.ephemeralContainers run at once."""
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        body = await self.cluster.body(request) or {}
        wanted = (body.get("spec") or {}).get("ephemeralContainers") or []
        taken = {*pod.containers, *pod.inits, *pod.ephemeral}
        volumes = {v["name"] for v in pod.obj["spec"].get("volumes") or []}
        added, causes = [], []
        for i, spec in enumerate(wanted):
            name = spec.get("name") if isinstance(spec, dict) else None
            if name in pod.ephemeral:
                continue  # already there (a PUT repeats the list)
            field = f"spec.ephemeralContainers[{i}]"
            if not name or not spec.get("image"):
                causes.append({"reason": "FieldValueRequired", "message": "Required value",
                               "field": f"{field}.{'name' if not name else 'image'}"})
            elif name in taken:
                causes.append({"reason": "FieldValueDuplicate", "message": f'Duplicate value: "{name}"',
                               "field": f"{field}.name"})
            for j, mount in enumerate(spec.get("volumeMounts") or []):
                if mount.get("name") not in volumes:
                    causes.append({"reason": "FieldValueNotFound", "message": f'Not found: "{mount.get("name")}"',
                                   "field": f"{field}.volumeMounts[{j}].name"})
            added.append(spec)
        if causes:
            return status(422, "Invalid", invalid_message("Pod", pod.name, causes), name=pod.name, kind="Pod",
                          causes=causes)
        pod.obj["spec"]["ephemeralContainers"] = [*(pod.obj["spec"].get("ephemeralContainers") or []), *added]
        for spec in added:
            self.cluster.background(self.cluster.kubelet.add_ephemeral(pod, spec))
        return web.json_response(self.served(pod))

    # -- proxy --------------------------------------------------------------------------------------------
    async def proxy(self, request: web.Request) -> web.Response:
        """GET pods/NAME[:PORT]/proxy/PATH: the request made from a throwaway busybox container in the
        Pod's network namespace (the API server reaches the Pod's IP; here, the Pod's localhost)."""
        pod = self._find(request)
        if pod is None:
            return self._missing(request)
        _, _, port = request.match_info["name"].partition(":")
        if not port:
            ports = [p.get("containerPort") for c in pod.obj["spec"]["containers"] for p in c.get("ports") or []]
            port = str(ports[0]) if ports else "80"
        if not pod.infra_id or pod.status()["phase"] != "Running":  # nothing listens at the Pod's address yet
            return status(503, "ServiceUnavailable", f"error trying to reach service: dial tcp 127.0.0.1:{port}: "
                                                     "connect: connection refused")
        path = "/" + request.match_info.get("path", "") + (f"?{request.query_string}" if request.query_string else "")
        http_status, body, err = await http_get(pod.podman_name, f"{SERVER_LABEL}={self.cluster.kubelet.sid}", port,
                                                path)
        if http_status is None:
            return status(503, "ServiceUnavailable", f"error trying to reach service: dial tcp 127.0.0.1:{port}: "
                                                     f"connect: connection refused {err.strip()[-200:]}".rstrip())
        return web.Response(status=http_status, body=body.encode(), content_type="text/html")



def _iso(seconds: float) -> str:
    """A time as podman stamps log lines (RFC 3339, nanoseconds, UTC); "" for the start of the log."""
    if not seconds:
        return ""
    whole = int(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((seconds - whole) * 1e9):09d}Z"


def _stamp(value: str) -> str:
    """An RFC 3339 time with its fraction padded to nine digits, so that stamps compare as text."""
    head, zone = (value[:-1], "Z") if value.endswith("Z") else (value[:-6], value[-6:])
    whole, _, fraction = head.partition(".")
    return f"{whole}.{fraction.ljust(9, '0')}{zone}"


def _lines_between(text: str, since: str, until: str) -> list[str]:
    """The lines of `podman logs -t` output stamped at or after `since` and before `until` ("": no bound)."""
    low, high = (_stamp(since) if since else ""), (_stamp(until) if until else "")
    found = []
    for line in text.splitlines():
        if not line[:4].isdigit():
            continue  # not a stamped line (podman stamps every line of the container's)
        moment = _stamp(line.partition(" ")[0])
        if (not low or moment >= low) and (not high or moment < high):
            found.append(line)
    return found
