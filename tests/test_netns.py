"""The grader's own HTTP client inside a network namespace (podman's probes, as root), against servers
in this test's own namespace: what a Pod's server can answer, and what it must not be able to do to
the grader (hold it forever, flood it)."""

from __future__ import annotations

import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from graders.backends.podman import netns
from graders.backends.base import HttpResponse

pytestmark = pytest.mark.skipif(not netns.usable(), reason="entering a network namespace needs root")
OWN = f"/proc/{os.getpid()}/ns/net"  # this process's own namespace: setns into it changes nothing


class Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/page?from=moved")
            self.end_headers()
        elif self.path == "/away":
            self.send_response(301)
            self.send_header("Location", "http://example.org/")
            self.end_headers()
        elif self.path in ("/bad-port", "/no-port"):  # issue 20, 3: the Pod's answer decides the port
            self.send_response(302)
            self.send_header("Location", "http://localhost:99999/" if self.path == "/bad-port" else "http://localhost:x/")
            self.end_headers()
        elif self.path == "/endless":  # issue 20, 2: a body that never ends
            self.send_response(200)
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"y" * 65536)
            except OSError:
                return
        elif self.path == "/huge":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * (netns.MAX_BODY * 3))
        else:
            body = f"page {self.path}".encode()
            self.send_response(200 if self.path.startswith("/page") else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_page_a_missing_page_and_a_redirect_within_the_pod(server: int) -> None:
    assert netns.http_get(OWN, server, "/page", timeout=5) == HttpResponse(200, "page /page")
    assert netns.http_get(OWN, server, "/nope", timeout=5).status == 404
    assert netns.http_get(OWN, server, "/moved", timeout=5) == HttpResponse(200, "page /page?from=moved")
    assert netns.http_get(OWN, server, "/away", timeout=5).status == 301  # never leaves the Pod


def test_nothing_listening_is_refused_in_the_words_the_checks_show() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    answer = netns.http_get(OWN, free, "/", timeout=5)
    assert answer.status is None and "Connection refused" in answer.error
    assert not netns.tcp_open(OWN, free, timeout=2)


def test_a_huge_page_is_read_only_up_to_its_bound(server: int) -> None:
    answer = netns.http_get(OWN, server, "/huge", timeout=10)
    assert answer.status == 200 and len(answer.body) == netns.MAX_BODY


def test_a_server_that_answers_byte_by_byte_is_cut_off_at_the_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():  # a header line that never ends, one byte at a time
                try:
                    connection.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.1)

    threading.Thread(target=drip, daemon=True).start()
    began = time.monotonic()
    answer = netns.http_get(OWN, listener.getsockname()[1], "/", timeout=2)
    stop.set()
    listener.close()
    assert answer.status is None and "timed out" in answer.error
    assert time.monotonic() - began < 2 * 3  # cut at its 2 s (the server drips for ever), not much later


def test_a_namespace_that_is_gone_is_unavailable_not_a_verdict() -> None:
    with pytest.raises(netns.Unavailable):
        netns.http_get("/proc/999999999/ns/net", 80, "/", timeout=2)


def test_the_grader_itself_never_changes_namespace(server: int) -> None:
    before = os.readlink("/proc/thread-self/ns/net")
    netns.http_get(OWN, server, "/page", timeout=5)
    assert os.readlink("/proc/thread-self/ns/net") == before


def test_a_redirect_to_a_port_that_is_no_port_is_a_failed_request_not_a_grader_error(server: int) -> None:
    for path in ("/bad-port", "/no-port"):
        answer = netns.http_get(OWN, server, path, timeout=5)
        assert answer.status is None and "whose port is not a port number (1-65535)" in answer.error, answer


def test_a_path_with_a_non_ascii_character_is_sent_percent_encoded_as_a_kubelet_sends_it(server: int) -> None:
    answer = netns.http_get(OWN, server, "/caf\u00e9 x", timeout=5)
    assert answer == HttpResponse(404, "page /caf%C3%A9%20x")


def test_an_endless_body_is_cut_at_the_bound_and_the_grader_stays_small(server: int) -> None:
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.monotonic()
    answer = netns.http_get(OWN, server, "/endless", timeout=10)
    assert answer.status == 200 and len(answer.body) == netns.MAX_BODY  # a kubelet keeps 10 KiB, judges the 200
    assert time.monotonic() - began < 5  # read up to the bound, not until the timeout
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB: under 64 MiB more
