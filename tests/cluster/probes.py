"""Requests into a Pod's network, as the kubelet's probes and the API server's proxy make them: from a
throwaway busybox container run inside the podman pod (podman 4.3 refuses to join a pod's network
from outside it; busybox wget -S crashes here, so a raw HTTP/1.0 request goes over nc)."""

from __future__ import annotations

from typing import Any

from tests.cluster.podman import podman

HELPER_IMAGE = "docker.io/library/busybox:1.36"
HTTP_GET = 'printf "GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n" "$1" | nc -w "$3" 127.0.0.1 "$2"'


async def http_get(pod: str, label: str, port: int | str, path: str, seconds: int = 5) -> tuple[int | None, str, str]:
    """(HTTP status or None when nothing answered, body, podman's error output)."""
    _, out, err = await podman("run", "--rm", "--pod", pod, "--label", label, HELPER_IMAGE, "sh", "-c", HTTP_GET,
                               "sh", path, str(port), str(seconds), timeout=seconds + 25)
    head, _, body = out.partition("\r\n\r\n")
    first = head.split("\r\n", 1)[0].split()
    if len(first) < 2 or not first[1].isdigit():
        return None, "", err
    return int(first[1]), body, err


def port_number(port: Any, container: dict[str, Any]) -> str:
    """A probe's port: a number, or the name of one of the container's ports."""
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return str(declared.get("containerPort"))
    return str(port)


async def probe(pod: str, label: str, podman_name: str, spec: dict[str, Any], container: dict[str, Any]
                ) -> tuple[bool, str]:
    """Run a readinessProbe once: (success, what failed)."""
    seconds = max(1, int(spec.get("timeoutSeconds", 1)))
    if "exec" in spec:
        code, out, err = await podman("exec", podman_name, *spec["exec"].get("command", []), timeout=seconds + 10)
        return code == 0, (out + err).strip()[-200:] or f"exit code {code}"
    if "httpGet" in spec:
        get = spec["httpGet"]
        status, _, err = await http_get(pod, label, port_number(get.get("port"), container), get.get("path", "/"),
                                        seconds)
        if status is None:
            return False, f'Get "http://127.0.0.1:{get.get("port")}{get.get("path", "/")}": connection refused'
        return 200 <= status < 400, f"HTTP probe failed with statuscode: {status}"
    if "tcpSocket" in spec:
        port = port_number(spec["tcpSocket"].get("port"), container)
        code, _, _ = await podman("run", "--rm", "--pod", pod, "--label", label, HELPER_IMAGE, "nc", "-z", "-w",
                                  str(seconds), "127.0.0.1", port, timeout=seconds + 25)
        return code == 0, f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    return True, ""
