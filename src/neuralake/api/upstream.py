"""A small keep-alive HTTP/1.1 client for the guard's hop to ROAPI on loopback.

The guard makes one request to ROAPI per client request, so this hop is most of its overhead;
a pool of plain asyncio connections costs a fraction of a general-purpose client. It speaks
only what ROAPI answers: ``Content-Length`` or chunked bodies, keep-alive unless ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping


class UpstreamError(ConnectionError):
    """ROAPI could not be reached or sent a malformed response."""


class UpstreamResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class UpstreamPool:
    """Keep-alive connections to one ``host:port``.

    Args:
        host: Loopback address of ROAPI.
        port: Its HTTP port.
        size: Most idle connections kept.
    """

    def __init__(self, host: str, port: int, size: int = 32) -> None:
        self.host = host
        self.port = port
        self.size = size
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> UpstreamResponse:
        """Send one request; a stale pooled connection is retried once on a fresh one."""
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(body)}"]  # fmt: skip
        head += [f"{k}: {v}" for k, v in (headers or {}).items() if "\n" not in k + v]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            reused = bool(self._idle)
            reader, writer = self._idle.pop() if reused else await self._connect(timeout)
            try:
                writer.write(payload)
                resp, keep = await asyncio.wait_for(self._read(reader), timeout)
            except TimeoutError:
                writer.close()
                raise
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                writer.close()
                if reused and attempt == 0:
                    continue
                raise UpstreamError(f"ROAPI connection failed: {exc}") from exc
            if keep and len(self._idle) < self.size:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return resp
        raise UpstreamError("ROAPI connection failed")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _connect(self, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
        except TimeoutError:  # a slow answer (504), not a dead server; TimeoutError is an OSError
            raise
        except OSError as exc:
            raise UpstreamError(f"Cannot connect to ROAPI: {exc}") from exc

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[UpstreamResponse, bool]:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ValueError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        keep = headers.get("connection", "").lower() != "close"
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        else:
            body = await reader.read()
            keep = False
        return UpstreamResponse(status, headers, body), keep
