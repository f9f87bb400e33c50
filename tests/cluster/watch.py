"""Watches (`GET <list>?watch=true`), which `kubectl wait`, `kubectl delete` (it waits until the object is
gone) and `kubectl get -w` open after a list.

The answer is a stream of JSON events, one a line, `{"type": "ADDED|MODIFIED|DELETED", "object": ...}`,
that starts after the list's resourceVersion and ends at `timeoutSeconds` (apiserver
pkg/endpoints/handlers/watch.go; the event shape is apimachinery pkg/apis/meta/v1 WatchEvent). As a
Table when the client asks for one, the column definitions in the first event only.

Here a watch polls the list handler itself, so that selectors and shapes are the list's; an object
deleted before the watch began is found among the tombstones the server keeps of recent deletions.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from tests.cluster import tables
from tests.cluster.responses import matches

POLL = 0.25  # seconds between looks at the list: a kubelet's status reaches a watch within this
DEFAULT_TIMEOUT = 1800.0  # an API server's --min-request-timeout (30 min); a client may ask for less
KEEP_TOMBSTONES = 300.0  # seconds a deleted object stays visible to a watch that starts late


@dataclass
class Tombstone:
    version: int
    path: str  # the list path the object was listed under, e.g. /api/v1/namespaces/x/pods
    obj: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class Tombstones:
    def __init__(self) -> None:
        self.items: list[Tombstone] = []

    def add(self, version: int, path: str, obj: dict[str, Any]) -> None:
        now = time.monotonic()
        self.items = [t for t in self.items if now - t.at < KEEP_TOMBSTONES]
        self.items.append(Tombstone(version, path, obj))

    def since(self, version: int, paths: set[str]) -> list[dict[str, Any]]:
        return [t.obj for t in self.items if t.version > version and t.path in paths]


def _version(obj: dict[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def _key(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return metadata.get("uid") or f"{metadata.get('namespace')}/{metadata.get('name')}"


def _selected(obj: dict[str, Any], request: web.Request) -> bool:
    """The list's own selectors, for a tombstone the list no longer shows."""
    if not matches((obj.get("metadata") or {}).get("labels"), request.query.get("labelSelector")):
        return False
    for term in filter(None, request.query.get("fieldSelector", "").split(",")):
        key, _, value = term.replace("==", "=").partition("=")
        found: Any = obj
        for part in key.strip().split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if str(found if found is not None else "") != value.strip():
            return False
    return True


def middleware(tombstones: Tombstones) -> Middleware:
    @web.middleware
    async def watch(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "GET" or request.query.get("watch") not in ("1", "true"):
            return await handler(request)
        return await _serve(request, handler, tombstones)
    return watch


async def _listing(request: web.Request, handler: Handler) -> tuple[str, list[dict[str, Any]]] | None:
    query = {k: v for k, v in request.query.items() if k not in ("watch", "resourceVersion", "timeoutSeconds",
                                                                  "allowWatchBookmarks")}
    answer = await handler(request.clone(rel_url=request.rel_url.with_query(query),
                                         headers={**request.headers, "Accept": "application/json"}))
    if not isinstance(answer, web.Response) or answer.status != 200 or answer.body is None:
        return None
    found = json.loads(answer.body)  # type: ignore[arg-type]
    if not isinstance(found, dict) or not isinstance(found.get("items"), list):
        return None
    return str(found.get("kind", "")).removesuffix("List"), found["items"]


async def _serve(request: web.Request, handler: Handler, tombstones: Tombstones) -> web.StreamResponse:
    first = await _listing(request, handler)
    if first is None:
        return await handler(request)  # not a list: its own answer (a 404, a 405)
    kind, items = first
    as_table = tables.wants_table(request.headers.get("Accept", ""))
    include = request.query.get("includeObject", "Metadata")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    headers_sent = False

    async def send(kind_of_event: str, obj: dict[str, Any]) -> None:
        nonlocal headers_sent
        shown = tables.table(kind, [obj], str(_version(obj)), include, headers=not headers_sent) if as_table else obj
        headers_sent = True
        await response.write(json.dumps({"type": kind_of_event, "object": shown}).encode() + b"\n")

    try:
        since = int(request.query.get("resourceVersion") or 0)
    except ValueError:
        since = 0
    timeout = float(request.query.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    deadline = time.monotonic() + timeout
    seen: dict[str, dict[str, Any]] = {}
    for obj in items:  # what changed since the list the client holds, or everything for a watch from 0
        seen[_key(obj)] = obj
        if since == 0:
            await send("ADDED", obj)
        elif _version(obj) > since:
            await send("MODIFIED", obj)
    if since:
        for obj in tombstones.since(since, {request.path}):
            if _selected(obj, request) and _key(obj) not in seen:
                await send("DELETED", obj)
    try:
        while time.monotonic() < deadline and request.transport is not None and not request.transport.is_closing():
            await asyncio.sleep(POLL)
            now = await _listing(request, handler)
            if now is None:
                break
            current = {_key(obj): obj for obj in now[1]}
            for key, obj in current.items():
                if key not in seen:
                    await send("ADDED", obj)
                elif _version(obj) != _version(seen[key]):
                    await send("MODIFIED", obj)
            for key, obj in seen.items():
                if key not in current:
                    await send("DELETED", obj)
            seen = current
    except ConnectionResetError:  # the client went away (a cancelled handler is aiohttp's to finish)
        pass
    return response
