"""python -m tests.cluster --kubeconfig FILE [--fault NAME:VALUE ...]

Writes a kubeconfig with the context `fake-cluster`, prints a line with `ready`, serves until
SIGTERM or SIGINT, then removes every pod it played.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

import yaml
from aiohttp import web
from aiohttp.typedefs import Handler

from tests.cluster import tables, watch
from tests.cluster.api import Cluster
from tests.cluster.faults import FAULTS, Faults
from tests.cluster.responses import as_status

CONTEXT = "fake-cluster"
HOST = "127.0.0.1"


def kubeconfig(server: str) -> dict:
    """Plain HTTP on loopback (the client accepts it): no certificates to make."""
    return {"apiVersion": "v1", "kind": "Config", "current-context": CONTEXT, "preferences": {},
            "clusters": [{"name": CONTEXT, "cluster": {"server": server}}],
            "users": [{"name": CONTEXT, "user": {"token": "fake-cluster-accepts-any-token"}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}]}


class Server:
    def __init__(self, faults: Faults, port: int) -> None:
        self.cluster = Cluster(faults)
        self.port = port
        self.down = False
        self.app = web.Application(middlewares=[self.refuse_when_down, as_status, tables.as_table,
                                                 watch.middleware(self.cluster.tombstones)])
        self.cluster.routes(self.app)
        self.runner = web.AppRunner(self.app, handler_cancellation=True)
        self.site: web.TCPSite | None = None
        if faults.api_down:
            self.cluster.on_first_pod = lambda: self.go_down(faults.api_down)

    @web.middleware
    async def refuse_when_down(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.down and request.transport is not None:  # a kept-alive connection: drop it too
            request.transport.close()
            raise web.HTTPServiceUnavailable()
        return await handler(request)

    async def start(self) -> str:
        await self.runner.setup()
        await self._listen()
        return f"http://{HOST}:{self.port}"

    async def _listen(self) -> None:
        self.site = web.TCPSite(self.runner, HOST, self.port, reuse_address=True)
        await self.site.start()
        self.port = self.site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def go_down(self, seconds: float) -> None:
        """The api-down fault: new connections refused, open ones dropped, for `seconds`."""
        await asyncio.sleep(0.2)  # let the answer to the first Pod's creation go out
        print(f"fake-cluster: fault api-down fired: api down for {seconds:g} s", flush=True)
        self.down = True
        if self.site:
            await self.site.stop()
        await asyncio.sleep(seconds)
        self.down = False
        await self._listen()
        print("fake-cluster: api up again", flush=True)

    async def close(self) -> list[str]:
        try:
            return await self.cluster.close()
        finally:
            await self.runner.cleanup()


async def serve(args: argparse.Namespace) -> int:
    server = Server(Faults.parse(args.fault), args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        url = await server.start()
        Path(args.kubeconfig).write_text(yaml.safe_dump(kubeconfig(url)))
        print(f"fake-cluster ready at {url}, context {CONTEXT} in {args.kubeconfig}", flush=True)
        await stop.wait()
    finally:
        left = await server.close()
    if left:
        print(f"fake-cluster: could not remove podman pods {', '.join(left)}", file=sys.stderr, flush=True)
        return 1
    print("fake-cluster stopped; every pod it played is removed", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME:VALUE",
                        help="inject a fault (repeatable): " + "; ".join(f"{k}: {v}" for k, v in FAULTS.items()))
    args = parser.parse_args(argv)
    try:
        Faults.parse(args.fault)
    except ValueError as error:
        parser.error(str(error))
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
