"""The SPDY/3.1 side of `kubectl exec`: what kubectl 1.29 and older speak (POST with `Upgrade: SPDY/3.1`),
and what kubectl 1.30+ falls back to when its websocket upgrade fails.

The facts, from the upstream code that speaks it:
- the upgrade: 101 with `Connection: Upgrade`, `Upgrade: SPDY/3.1` and the chosen
  `X-Stream-Protocol-Version` (kubernetes staging/src/k8s.io/apimachinery/pkg/util/httpstream/spdy/upgrade.go,
  httpstream.go Handshake);
- the client opens one stream per channel, each a SYN_STREAM whose `streamtype` header is error, stdin,
  stdout, stderr or resize (client-go tools/remotecommand v4.go / v2.go createStreams), and waits for
  each stream's SYN_REPLY; it reads stdout and stderr to their FIN and the error stream's v1 Status to
  its FIN (errorDecoderV4);
- framing and header compression are SPDY draft 3 as moby/spdystream spdy/{read,write,types}.go
  implement it: 8-byte frame headers, header blocks as (count, name, value) with 32-bit lengths,
  compressed by one zlib stream per direction with the draft's dictionary (rebuilt below from its words).
Flow control is not modelled: the output of one command is sent as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import zlib
from dataclasses import dataclass, field

from aiohttp import web

PROTOCOLS = ("v4.channel.k8s.io",)  # the one with a v1 Status on the error stream; kubectl offers it first
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
MAX_DATA = 32 * 1024  # bytes per DATA frame (the protocol allows 16 MiB)

# SPDY draft 3 §2.6.10.1: 4-byte big-endian lengths and these words, then a run of literal text
_WORDS = ("options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges "
          "age allow authorization cache-control connection content-base content-encoding content-language "
          "content-length content-location content-md5 content-range content-type date etag expect expires from "
          "host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location "
          "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer "
          "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status").split() + [
    "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
         "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
         "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
         "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
         "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
DICTIONARY = b"".join(struct.pack(">I", len(word)) + word.encode() for word in _WORDS) + _TAIL.encode()
# the dictionary as spdystream's spdy/dictionary.go holds it (1,423 bytes): a test compares
DICTIONARY_SHA256 = "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"
assert len(DICTIONARY) == 1423, len(DICTIONARY)


def wants_spdy(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower().startswith("spdy/")


def chosen_protocol(request: web.Request) -> str | None:
    """The newest stream protocol both sides know (the client lists its own, newest first)."""
    offered = [value.strip() for header in request.headers.getall("X-Stream-Protocol-Version", [])
               for value in header.split(",")]
    return next((protocol for protocol in PROTOCOLS if protocol in offered), None)


def _header_block(headers: dict[str, str]) -> bytes:
    out = struct.pack(">I", len(headers))
    for name, value in headers.items():
        out += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
    return out


def _parse_headers(block: bytes) -> dict[str, str]:
    count, position, found = struct.unpack_from(">I", block)[0], 4, {}
    for _ in range(count):
        (length,) = struct.unpack_from(">I", block, position)
        name = block[position + 4:position + 4 + length].decode()
        position += 4 + length
        (length,) = struct.unpack_from(">I", block, position)
        found[name] = block[position + 4:position + 4 + length].decode()
        position += 4 + length
    return found


@dataclass
class Session(asyncio.Protocol):
    """One upgraded connection: the client's streams by type, and frames out."""
    transport: asyncio.Transport
    http: asyncio.BaseProtocol | None = None  # aiohttp's protocol of the connection, told when it closes
    streams: dict[str, int] = field(default_factory=dict)  # streamtype -> stream id
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    buffer: bytes = b""

    def __post_init__(self) -> None:
        self.inflate = zlib.decompressobj(zdict=DICTIONARY)
        self.deflate = zlib.compressobj(9, zdict=DICTIONARY)

    # -- in ---------------------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 8:
            length = int.from_bytes(self.buffer[5:8], "big")
            if len(self.buffer) < 8 + length:
                return
            frame, self.buffer = self.buffer[:8 + length], self.buffer[8 + length:]
            if frame[0] & 0x80:
                self._control(int.from_bytes(frame[2:4], "big"), frame[8:])
            # a DATA frame from the client is stdin: no command here reads it

    def _control(self, kind: int, payload: bytes) -> None:
        if kind == SYN_STREAM:
            stream = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
            headers = _parse_headers(self.inflate.decompress(payload[10:]))
            self.streams[headers.get("streamtype", "")] = stream
            self._send_control(SYN_REPLY, 0, struct.pack(">I", stream) + self._compressed({}))
            self.changed.set()
        elif kind == HEADERS:
            self.inflate.decompress(payload[4:])  # keeps the header stream in step
        elif kind == PING:
            self._send_control(PING, 0, payload)
        elif kind == GOAWAY:
            self.closed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        self.changed.set()
        if self.http is not None:  # else aiohttp waits for this connection at shutdown
            self.http.connection_lost(exc)

    async def wait_for(self, types: set[str], timeout: float) -> bool:
        """True once the client has opened a stream of each type (it opens them before anything flows)."""
        async def opened() -> None:
            while not types <= set(self.streams) and not self.closed.is_set():
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(opened(), timeout)
        except asyncio.TimeoutError:
            return False
        return types <= set(self.streams)

    # -- out --------------------------------------------------------------------------------------------------
    def _compressed(self, headers: dict[str, str]) -> bytes:
        return self.deflate.compress(_header_block(headers)) + self.deflate.flush(zlib.Z_SYNC_FLUSH)

    def _send_control(self, kind: int, flags: int, payload: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(struct.pack(">HHI", 0x8003, kind, flags << 24 | len(payload)) + payload)

    def send(self, streamtype: str, data: bytes, fin: bool = False) -> None:
        """Data on the client's stream of that type (nothing when it opened none), FIN with the last piece."""
        stream = self.streams.get(streamtype)
        if stream is None or self.transport.is_closing():
            return
        pieces = [data[i:i + MAX_DATA] for i in range(0, len(data), MAX_DATA)] or [b""]
        for index, piece in enumerate(pieces):
            flags = FLAG_FIN if fin and index == len(pieces) - 1 else 0
            self.transport.write(struct.pack(">II", stream, flags << 24 | len(piece)) + piece)


async def upgrade(request: web.Request, protocol: str) -> tuple[web.StreamResponse, Session]:
    """Answer 101 and take the connection over (aiohttp itself upgrades only to websockets)."""
    response = web.StreamResponse(status=101, headers={"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                                                       "X-Stream-Protocol-Version": protocol})
    await response.prepare(request)
    assert request.transport is not None
    session = Session(request.transport, request.transport.get_protocol())
    request.protocol.keep_alive(False)
    request.transport.set_protocol(session)
    return response, session


def dictionary_digest() -> str:
    return hashlib.sha256(DICTIONARY).hexdigest()
