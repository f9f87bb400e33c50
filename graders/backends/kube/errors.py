"""The Kubernetes API's errors as a small hierarchy of our own, by HTTP status, as kopf keeps its own
(nolar/kopf: kopf/_cogs/clients/errors.py): the client library's ApiException never leaves this package,
and callers catch `NotFound` or `Forbidden` instead of reading a status code or an error's text.

What an error says comes from the API server's v1 Status object in the body (its `reason`, `message`
and `details`; k8s.io/apimachinery pkg/apis/meta/v1/types.go, Status), read as JSON; a body that is not
a Status (a proxy's page, any other JSON) says nothing, as kopf treats it. Network failures (a refused or
dropped connection, a timeout) are not API errors: they stay the library's own (NETWORK_ERRORS).
"""

from __future__ import annotations

import json
from typing import Any

import urllib3
from kubernetes.client.rest import ApiException

from graders.errors import InfraError

NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)


class APIError(Exception):
    """The API server answered with an error status.

    status: the HTTP status; phrase: the HTTP reason phrase ("Unprocessable Entity"); reason and message:
    the Status object's (reason "Invalid", "AlreadyExists"; "" when the body had no Status); details: its
    details ({} when none). str() is the client library's own text of the error, as it was before.
    """

    def __init__(self, status: int, phrase: str, body: dict[str, Any] | None, text: str) -> None:
        super().__init__(text)
        self.status, self.phrase = status, phrase
        self.reason = str((body or {}).get("reason") or "")
        self.details: dict[str, Any] = dict((body or {}).get("details") or {})
        self._message = str((body or {}).get("message") or "")

    @property
    def message(self) -> str:
        """The Status's message; the HTTP reason phrase, or the bare status, when the body had none."""
        return self._message or self.phrase or str(self.status)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, reason={self.reason!r}, message={self.message!r})"


class ClientError(APIError):
    """4xx: the request was refused (the grader's, the student's object, or this context's rights)."""


class ServerError(APIError):
    """5xx: the API server (or what stands behind it: etcd, a webhook, a Pod it proxies to) failed."""


class BadRequest(ClientError):
    """400: the request cannot be served as asked (an undecodable body; logs of a container not started)."""


class Unauthorized(ClientError):
    """401: the kubeconfig's credentials were refused."""


class Forbidden(ClientError):
    """403: RBAC, an admission plugin (LimitRanger, ResourceQuota, PodSecurity) or a webhook refused."""


class NotFound(ClientError):
    """404: no such object (or no such kind on this server)."""


class Conflict(ClientError):
    """409: the object already exists, or was changed meanwhile."""


class Invalid(ClientError):
    """422: the object failed validation (the Status's reason is "Invalid")."""


class TooManyRequests(ClientError):
    """429: API priority and fairness asks the client to come back later."""


BY_STATUS: dict[int, type[APIError]] = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
                                        409: Conflict, 422: Invalid, 429: TooManyRequests}


def error_class(status: int) -> type[APIError]:
    """The class of an error status: its own where it has one, else 4xx ClientError, 5xx ServerError."""
    if status in BY_STATUS:
        return BY_STATUS[status]
    if 400 <= status < 500:
        return ClientError
    return ServerError if 500 <= status < 600 else APIError


def api_error(error: ApiException) -> APIError:
    """The hierarchy's error for the client library's (raise it `from` the original)."""
    body = error.body.decode("utf-8", "replace") if isinstance(error.body, bytes) else error.body
    status = int(error.status or 0)
    return error_class(status)(status, str(error.reason or ""), status_body(body or ""), str(error))


def status_body(text: str) -> dict[str, Any] | None:
    """The API server's v1 Status in a body, or None when the body is anything else."""
    if '"Status"' not in text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if isinstance(found, dict) and found.get("kind") == "Status" and found.get("apiVersion") == "v1":
        return found
    return None


def infra(what: str, error: Exception) -> InfraError:
    """A failed API call as the machine's fault, in the words the user has always been shown."""
    detail = f"{error.status} {error.message}" if isinstance(error, APIError) else str(error)
    return InfraError(f"the Kubernetes API failed while trying to {what}: {detail}",
                      fix="check that the cluster is up (`kubectl cluster-info`) and run again")
