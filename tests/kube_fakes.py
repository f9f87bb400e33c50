"""A fake Kubernetes API for the kind and context backend tests: kmock's KubernetesEmulator served on a
real local HTTP port, so the official `kubernetes` client talks to it exactly as it talks to a cluster.

Its fixtures (kube_api, proxy, silent_server) reach every test module through tests/conftest.py.
kmock's own pytest plugin is disabled (pytest.ini: -p no:kmock): its fixture is async-only, and the
graders are synchronous, so the emulator runs here on its own event loop in a background thread.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kmock
import pytest
from kmock._internal import parsing as kmock_parsing

TOKEN = "fake-token-for-tests"  # the bearer token written into every fake kubeconfig
VERSION = {"major": "1", "minor": "36", "gitVersion": "v1.36.1", "gitCommit": "0" * 40, "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc", "platform": "linux/amd64"}


def write_kubeconfig(path: Path, server: str, context: str = "fake", token: str = TOKEN) -> Path:
    """A kubeconfig with one context (cluster `server`, a user with a bearer token), current-context set.

    JSON is valid YAML: the client's loader reads it like the YAML that kind and kubectl write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }, indent=2))
    return path


_original_parse_path = kmock_parsing.parse_path


def _parse_path_with_namespaces(path: str) -> kmock_parsing.ParsedPath:
    """Workaround for kmock 0.8: its parse_path() reads `/api/v1/namespaces[/NAME]` as a namespace prefix
    with no resource after it (ValueError, i.e. a 500, for the list; `namespace=NAME` for one), so the
    Namespace objects themselves could not be created, read or deleted. Parse them as the resource."""
    parts = path.strip("/").split("/")
    if parts[:1] == ["api"] and parts[2:3] == ["namespaces"] and len(parts) in (3, 4):
        return kmock_parsing.ParsedPath(group="", version=parts[1], plural="namespaces", namespace=None,
                                        name=parts[3] if len(parts) == 4 else None, subresource=None)
    return _original_parse_path(path)


def status(code: int, reason: str, message: str) -> dict:
    """A Kubernetes `Status` error body, as the API server sends with a 4xx/5xx."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


@dataclass
class KubeAPI:
    """The running fake: `mock` is the kmock emulator (script it, read its requests), `url` its address."""

    mock: kmock.KubernetesEmulator
    url: str

    def kubeconfig(self, path: Path, context: str = "fake") -> Path:
        return write_kubeconfig(path, self.url, context)

    def fail(self, criteria: kmock.Criterion, code: int, reason: str, message: str, times: int | None = None) -> None:
        """Answer the matching requests with a Status error: the first `times` ones, or all (None).

        Workaround for kmock 0.8: the emulator stores a created object before any reaction answers, so
        an error answer to a POST would leave behind an object that a real API server never stored;
        the object is removed again here. Past `times`, requests go on to the emulator.
        """
        count = itertools.count()

        def respond(request: kmock.Request) -> kmock.Payload:
            if times is not None and next(count) >= times:
                return NotImplemented  # kmock: this reaction is used up for good, the next one answers
            if request.action == kmock.action.CREATE:
                metadata = (request.data or {}).get("metadata") or {}
                namespace, name = request.namespace or metadata.get("namespace"), metadata.get("name")
                if request.resource is not None and isinstance(name, str):
                    key = (request.resource, namespace, name)
                    if key in self.mock.objects:
                        del self.mock.objects[key]
            return kmock.Response(status=code, payload=status(code, reason, message))

        self.mock[criteria] << respond


@pytest.fixture
def kube_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeAPI]:
    """kmock's KubernetesEmulator on 127.0.0.1:<free port>, served from a daemon thread's event loop."""
    # kmock looks parse_path up at call time (rendering.Request._parse), so patching the module suffices
    monkeypatch.setattr(kmock_parsing, "parse_path", _parse_path_with_namespaces)
    box: dict = {}
    ready = threading.Event()

    async def serve() -> None:
        # The handler owns asyncio primitives: it must be built inside the loop that serves it.
        box["stop"], box["loop"] = asyncio.Event(), asyncio.get_running_loop()
        try:
            async with kmock.KubernetesEmulator() as mock, kmock.Server(mock) as server:
                # kmock serves GET /version; the kubernetes client asks for /version/ (its OpenAPI path)
                mock.fallback["get /version/"] << VERSION
                box["api"] = KubeAPI(mock, str(server.url).rstrip("/"))
                ready.set()
                await box["stop"].wait()
        finally:
            ready.set()  # also when it failed to start: the fixture reports that at once

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True, name="kmock")
    thread.start()
    assert ready.wait(10) and "api" in box, "the kmock server did not start"
    try:
        yield box["api"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


class SilentServer:
    """A TCP server that accepts connections and never answers: a paused Docker Desktop, a proxy that
    hangs, a laptop resuming. `connections` counts what reached it; with `close=True` it hangs up at once
    instead (a proxy that refuses to forward)."""

    def __init__(self, close: bool = False) -> None:
        self.connections = 0
        self._close = close
        self._held: list[socket.socket] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True, name="silent-server").start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # stopped
            self.connections += 1
            if self._close:
                conn.close()
            else:
                self._held.append(conn)

    def stop(self) -> None:
        self._sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.stop()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentServer]:
    """$HTTP(S)_PROXY (both spellings) pointing at a server that counts connections and hangs up, and
    NO_PROXY=localhost as students set it (which does not cover 127.0.0.1)."""
    server = SilentServer(close=True)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, server.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "localhost")
    yield server
    server.stop()
