"""The one path of every call to the Kubernetes API: a deadline, retries decided by the HTTP verb, and
the API's errors raised as graders/backends/kube/errors.py's hierarchy.

A GET is safe to repeat (RFC 9110, section 9.2.2): a dropped connection, a 429 or a 5xx (a control plane
restarting, an overloaded API server) is retried for up to RIDE_OUT seconds before it is reported.
Writes are not: a create that reached the server before the connection dropped would come back 409.
A delete whose object is already gone is answered 404, which `request(..., missing_ok=True)` accepts.

Objects are sent and read as raw JSON on their REST path (post, get, delete here); the generated methods
of the client are used for the typed reads of Pods. Both go through `call`. Two exchanges are not API
calls of this kind and keep their own paths: an exec's websocket (sandbox.py: a command is not repeated)
and a GET through the pod proxy (evidence.py: whatever status comes back is the Pod's answer to judge).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from kubernetes import client
from kubernetes.client.rest import ApiException
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from graders.backends.kube.errors import (
    NETWORK_ERRORS, APIError, NotFound, ServerError, TooManyRequests, api_error, infra)
from graders.errors import interrupted

REQUEST_TIMEOUT = 15  # seconds for one API call
RIDE_OUT = 20  # seconds a read retries through a restarting or overloaded API server
RETRIED_5XX = (500, 502, 503, 504)  # 501 Not Implemented, or 505 and beyond, will not change on their own
SAFE_VERBS = ("GET", "HEAD")  # a LIST is a GET on a collection


def call(method: Callable[..., Any], *args: Any, ride_out: float | None = None, **kwargs: Any) -> Any:
    """One API call: its result, or an APIError of the hierarchy, or one of NETWORK_ERRORS.

    ride_out: seconds a safe call is retried (RIDE_OUT by default; 0 for a caller that polls it itself)."""
    budget = (RIDE_OUT if ride_out is None else ride_out) if verb(method) in SAFE_VERBS else 0
    for attempt in Retrying(stop=stop_after_delay(budget), wait=wait_exponential(multiplier=0.2, max=2.0),
                            retry=retry_if_exception(transient), reraise=True):
        with attempt:
            try:
                return method(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
            except ApiException as error:
                raise api_error(error) from error
    raise AssertionError("tenacity re-raises the last error")  # pragma: no cover


def request(what: str, method: Callable[..., Any], *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
    """`call`, with any failure as an InfraError saying what was tried (None for a 404 when missing_ok)."""
    try:
        return call(method, *args, **kwargs)
    except NotFound as error:
        if missing_ok:
            return None
        raise infra(what, error) from error
    except (APIError, *NETWORK_ERRORS) as error:
        raise infra(what, error) from error


def verb(method: Callable[..., Any]) -> str:
    """The HTTP verb of a call: the raw helpers' own, or the generated client's by its name (read_*, list_*
    and get_* are GETs, kubernetes-client/python's generated api/core_v1_api.py and version_api.py)."""
    name = getattr(method, "__name__", "")
    if name in RAW_VERBS:
        return RAW_VERBS[name]
    return "GET" if name.startswith(("read_", "list_", "get_")) else "WRITE"


def transient(error: BaseException) -> bool:
    """Whether a failed safe call may succeed when repeated (never once the user pressed Ctrl-C)."""
    if interrupted.is_set():
        return False
    if isinstance(error, TooManyRequests):
        return True
    if isinstance(error, ServerError):
        return error.status in RETRIED_5XX
    return isinstance(error, NETWORK_ERRORS)


def post(api: client.ApiClient, path: str, body: dict[str, Any], _request_timeout: float = REQUEST_TIMEOUT) -> Any:
    """POST an object as raw JSON (the generated methods validate bodies with pydantic models, which
    refuse numeric quantities such as `cpu: 1` that kubectl and the API server accept)."""
    return _raw(api, "POST", path, body, _request_timeout)


def get(api: client.ApiClient, path: str, _request_timeout: float = REQUEST_TIMEOUT) -> Any:
    return _raw(api, "GET", path, None, _request_timeout)


def delete(api: client.ApiClient, path: str, options: dict[str, Any],
           _request_timeout: float = REQUEST_TIMEOUT) -> Any:
    return _raw(api, "DELETE", path, options, _request_timeout)


RAW_VERBS = {post.__name__: "POST", get.__name__: "GET", delete.__name__: "DELETE"}


def _raw(api: client.ApiClient, method: str, path: str, body: dict[str, Any] | None, timeout: float) -> Any:
    """One HTTP exchange with JSON in and out, no models: ApiException for an error status (as the
    generated methods raise it), which `call` maps."""
    headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if body is not None else {})}
    prepared = api.param_serialize(method=method, resource_path=path, body=body, auth_settings=["BearerToken"],
                                   header_params=headers)
    response = api.call_api(*prepared, _request_timeout=timeout)
    response.read()
    text = response.data.decode("utf-8", "replace") if isinstance(response.data, bytes) else response.data
    if not 200 <= response.status <= 299:
        raise ApiException(status=response.status, reason=response.reason, body=text)
    return json.loads(text or "null")
