"""Requests the grader makes itself inside a Pod's network namespace (podman, run as root).

A short-lived thread joins the namespace with setns(2), opens a socket there and ends: a socket stays
in the namespace it was created in, so the grader's own HTTP client then talks to the Pod's localhost.
No container starts (a busybox probe container costs 0.15-0.4 s a request) and no program of the
student's image is involved. Only the creating thread ever changes namespace, never the grader's.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from graders.backends.base import HttpResponse, request_path

CLONE_NEWNET = 0x40000000  # <sched.h>
# Bytes of an answer's body read at most: a kubelet reads 10 KiB of a probe's (k8s.io/kubernetes
# pkg/probe/http/http.go, maxRespBodyLength, through ReadAtMost: the rest is dropped and the probe judged by
# its status); a page the checks read (nginx's welcome page: 615 bytes) fits many times. An endless body is
# cut there, and the connection closed.
MAX_BODY = 64 * 1024
MAX_REDIRECTS = 5  # followed within the Pod (as wget and the kubelet's probes follow them)
LOCAL_HOSTS = ("localhost", "127.0.0.1", "")


def usable() -> bool:
    """setns(CLONE_NEWNET) needs CAP_SYS_ADMIN: root, as the podman backend runs in CI and on the
    build machines. Elsewhere the backend keeps its probe container."""
    return os.geteuid() == 0 and _setns is not None


def _load_setns() -> Any:  # a ctypes function, or None
    try:
        return ctypes.CDLL(None, use_errno=True).setns
    except (OSError, AttributeError):  # not Linux, or a libc without setns
        return None


_setns = _load_setns()


class Unavailable(Exception):
    """The namespace cannot be entered (no such process any more, or no permission): the caller uses
    another way in, or says the Pod is gone. Never the student's fault."""


def socket_in(netns: str, timeout: float) -> socket.socket:
    """A TCP socket that lives in the network namespace at path netns (/proc/PID/ns/net)."""
    made: dict[str, object] = {}

    def join_and_open() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _setns(fd, CLONE_NEWNET) != 0:
                    number = ctypes.get_errno()
                    raise OSError(number, f"setns {netns}: {os.strerror(number)}")
            finally:
                os.close(fd)
            made["socket"] = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as error:
            made["error"] = error

    thread = threading.Thread(target=join_and_open, name="k8s101-netns", daemon=True)
    thread.start()
    thread.join(timeout)
    if "error" in made:
        raise Unavailable(str(made["error"]))
    if "socket" not in made:
        raise Unavailable(f"could not open a socket in {netns} within {timeout:g} s")
    made_socket = made["socket"]
    assert isinstance(made_socket, socket.socket)
    return made_socket


class _Connection(http.client.HTTPConnection):
    """An HTTP connection over a socket made in the Pod's namespace."""

    def __init__(self, made: socket.socket, port: int, timeout: float) -> None:
        super().__init__("127.0.0.1", port, timeout=timeout)
        self._made = made

    def connect(self) -> None:
        self._made.settimeout(self.timeout)
        self._made.connect((self.host, self.port))
        self.sock = self._made


def http_get(netns: str, port: int, path: str, timeout: float) -> HttpResponse:
    """GET http://127.0.0.1:port/path inside the namespace, following redirects that stay in the Pod.
    The whole exchange ends by `timeout`: a server that answers byte by byte is cut off. Unavailable
    when the namespace cannot be entered."""
    deadline = time.monotonic() + timeout
    path = request_path(path)
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body, error = _exchange(netns, port, path, deadline)
        if status is None:
            return HttpResponse(status=None, error=error)
        target = urlsplit(location) if location and 300 <= status < 400 else None
        if target is None or (target.hostname or "") not in LOCAL_HOSTS or target.scheme not in ("", "http"):
            return HttpResponse(status=status, body=body)
        try:  # the Pod's answer: its port may be no port at all (a kubelet's client cannot dial it either)
            port = target.port or (port if not target.scheme else 80)
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            return HttpResponse(status=None, error=f"HTTP {status} redirected to {location[:200]!r}, whose port is "
                                                   f"not a port number (1-65535): it cannot be followed")
        path = request_path((target.path or "/") + (f"?{target.query}" if target.query else ""))
    return HttpResponse(status=status, body=body)


def _exchange(netns: str, port: int, path: str, deadline: float) -> tuple[int | None, str, str, str]:
    """(status, Location, body, error) of one request; status None when no HTTP answer came."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None, "", "", "no answer: the request timed out"
    made = socket_in(netns, remaining)
    connection = _Connection(made, port, remaining)
    # Every socket operation has its own timeout; this bounds their sum (a header sent byte by byte).
    watchdog = threading.Timer(remaining, lambda: _cut(made))
    watchdog.start()
    try:
        connection.request("GET", path if path.startswith("/") else f"/{path}",
                           headers={"User-Agent": "k8s101-grader", "Connection": "close"})
        response = connection.getresponse()
        body = response.read(MAX_BODY).decode("utf-8", "replace")
        if time.monotonic() >= deadline:  # the watchdog cut it: what was read is not the server's answer
            return None, "", "", "no answer: the request timed out"
        return response.status, response.getheader("Location") or "", body, ""
    except ConnectionRefusedError:
        return None, "", "", f"can't connect to 127.0.0.1:{port}: Connection refused"
    except (TimeoutError, socket.timeout):
        return None, "", "", "no answer: the request timed out"
    except (OSError, http.client.HTTPException) as error:
        if time.monotonic() >= deadline:
            return None, "", "", "no answer: the request timed out"
        return None, "", "", f"no HTTP answer from 127.0.0.1:{port}: {error or type(error).__name__}"
    finally:
        watchdog.cancel()
        connection.close()
        made.close()


def tcp_open(netns: str, port: int, timeout: float) -> bool:
    """True when something in the namespace accepts a TCP connection on 127.0.0.1:port."""
    made = socket_in(netns, timeout)
    try:
        made.settimeout(timeout)
        made.connect(("127.0.0.1", int(port)))
        return True
    except OSError:
        return False
    finally:
        made.close()


def _cut(made: socket.socket) -> None:
    try:
        made.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
