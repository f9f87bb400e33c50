"""Shapes of the API server's answers and selectors, shared by the handlers."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler


def status(code: int, reason: str, message: str, **details: Any) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "details": details, "code": code}, status=code)


def not_found(kind: str, name: str) -> web.Response:
    return status(404, "NotFound", f'{kind} "{name}" not found', name=name, kind=kind)


def matches(labels: dict[str, str] | None, selector: str | None) -> bool:
    """Equality-based label selectors: `a=b,c!=d,e,!f`."""
    labels = labels or {}
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term.strip() not in labels:
            return False
    return True


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """JSON merge patch (RFC 7386): None removes a key."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


@web.middleware
async def as_status(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path or method this server has no handler for, answered as the API server does: a Status,
    which kubectl reads (`Error from server (NotFound): the server could not find the requested resource`)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return status(404, "NotFound", "the server could not find the requested resource")
    except web.HTTPMethodNotAllowed:
        return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
