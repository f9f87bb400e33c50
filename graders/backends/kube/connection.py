"""Reaching a cluster: a kubeconfig context's client settings, read once, and kubectl's proxy rule for a
loopback API server, applied to plain requests and to an exec's websocket alike."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import websocket
from kubernetes import client, config
from kubernetes.stream import ws_client

from graders.backends.kube.calls import REQUEST_TIMEOUT
from graders.errors import InfraError

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


exec_limits = threading.local()  # the timeout of the exec running on this thread (`timeout`)


class BoundedWebSocket(websocket.WebSocket):
    """The websocket that stream() opens for an exec, with the exec's timeout and kubectl's proxy rule.

    websocket-client 1.9 ignores websocket.setdefaulttimeout() in WebSocket().connect(), and the
    kubernetes client passes no timeout: an API server that accepts and never answers (Docker Desktop
    paused, a laptop resuming) would block the run for ever. The timeout given here bounds the connect,
    the handshake and every later read. Without proxy options, websocket-client reads $https_proxy
    and $no_proxy itself (NO_PROXY=localhost does not cover 127.0.0.1), and it reads http_no_proxy
    only next to an http_proxy_host: a loopback server is named as both, so no proxy is used.
    """

    def connect(self, url: str, **options: Any) -> None:
        options.setdefault("timeout", getattr(exec_limits, "timeout", REQUEST_TIMEOUT))
        parsed = urlparse(url)
        if is_loopback(url) and parsed.hostname:
            options.update(http_proxy_host=parsed.hostname, http_proxy_port=parsed.port or 443,
                           http_no_proxy=[parsed.hostname])
        super().connect(url, **options)


# stream() builds its websocket in ws_client.create_websocket(), which gives no way to pass options
ws_client.WebSocket = BoundedWebSocket  # type: ignore[misc]  # replacing the class is the point
