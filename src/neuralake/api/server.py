"""The read-only API: a Starlette guard in front of a ROAPI child process.

ROAPI runs on loopback ports and is started and stopped with the app (lifespan). The guard
forwards only reads: ``GET /api/tables/{name}`` (ROAPI's REST parameters, ``limit`` capped),
``GET /api/schema[/{name}]`` and ``POST /api/sql`` for a single bounded ``SELECT`` (see
:mod:`neuralake.api.guard`). Responses are passed through in the format the ``Accept`` header asks
for (JSON, CSV, Arrow file/stream, Parquet). Optional bearer-token auth compares in constant
time. If ROAPI dies, requests get 503 while a watchdog restarts it; a request that takes longer
than the timeout gets 504. The hop to ROAPI is one pooled keep-alive ``httpx.AsyncClient``.

Example:
    >>> app = create_app(catalog, token_env="NEURALAKE_API_TOKEN", row_limit=1000)  # doctest: +SKIP
    >>> serve(catalog, port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.api.defaults import (
    DEFAULT_MAX_SQL_CHARS,
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT_SECONDS,
)
from neuralake.api.guard import QueryRejectedError, check_rest_params, check_sql
from neuralake.api.openapi import MEDIA_TYPES
from neuralake.errors import NeuralakeError

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from neuralake.api.process import RoapiProcess
    from neuralake.catalog import Catalog
    from neuralake.export.roapi import RoapiExport

logger = logging.getLogger("neuralake.api")

#: Connections the guard opens to ROAPI at once (more requests wait, within the timeout) and
#: how many idle keep-alive connections it keeps.
UPSTREAM_MAX_CONNECTIONS = 64
UPSTREAM_KEEPALIVE_CONNECTIONS = 32


class ApiConfigError(NeuralakeError, ValueError):
    """The API cannot start as configured (e.g. the token variable is unset)."""


@dataclass(frozen=True)
class ApiSettings:
    """How the guard behaves.

    Attributes:
        row_limit: Most rows one request returns.
        timeout: Seconds a request may take in ROAPI before the guard answers 504.
        max_sql_chars: Longest accepted SQL query.
        token: Bearer token required on every ``/api`` request and ``/openapi.json``, or None.
    """

    row_limit: int = DEFAULT_ROW_LIMIT
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_sql_chars: int = DEFAULT_MAX_SQL_CHARS
    token: str | None = None

    def __repr__(self) -> str:  # never show the token
        return (
            f"ApiSettings(row_limit={self.row_limit}, timeout={self.timeout}, "
            f"max_sql_chars={self.max_sql_chars}, token={'***' if self.token else None})"
        )


class Guard:
    """The request handlers, the ROAPI process and the HTTP client that reaches it."""

    def __init__(
        self,
        catalog: Catalog,
        plan: RoapiExport,
        process: RoapiProcess,
        settings: ApiSettings,
    ) -> None:
        self.catalog = catalog
        self.plan = plan
        self.process = process
        self.settings = settings
        self.tables = set(plan.names)
        self._client: httpx.AsyncClient | None = None
        self.openapi: dict[str, Any] | None = None
        self._restart: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        import httpx

        await asyncio.to_thread(self.process.start)
        self._client = client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=UPSTREAM_MAX_CONNECTIONS,
                max_keepalive_connections=UPSTREAM_KEEPALIVE_CONNECTIONS,
            ),
            timeout=httpx.Timeout(self.settings.timeout),  # connect, read, write, pool wait
            headers={"Accept-Encoding": "identity"},  # loopback: compression only costs CPU
            trust_env=False,  # loopback: never through a proxy
        )
        self._watchdog = asyncio.create_task(self._watch())
        logger.info("ROAPI serving %d tables at %s", len(self.tables), self.process.url)
        try:
            yield
        finally:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            if self._restart is not None:
                with contextlib.suppress(Exception):
                    await self._restart
            self._client = None
            await client.aclose()
            await asyncio.to_thread(self.process.close)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if not self.process.alive():
                self.schedule_restart()

    def schedule_restart(self) -> None:
        """Restart ROAPI in the background (once at a time)."""
        if self._restart is None or self._restart.done():
            logger.warning("ROAPI is down; restarting it")
            self._restart = asyncio.create_task(self._do_restart())

    async def _do_restart(self) -> None:
        try:
            await asyncio.to_thread(self.process.restart)
            logger.warning("ROAPI restarted at %s", self.process.url)
        except NeuralakeError as exc:
            logger.error("ROAPI restart failed: %s", exc)

    # -- helpers -------------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response | None:
        """``None`` if the request may proceed, else a 401 response."""
        token = self.settings.token
        if token is None:
            return None
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        ok = hmac.compare_digest(given.strip().encode(), token.encode())
        if scheme.lower() == "bearer" and ok:
            return None
        return error(401, "unauthorized", "Missing or wrong bearer token.",
                     {"WWW-Authenticate": 'Bearer realm="neuralake"'})  # fmt: skip

    async def upstream(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request to the current ROAPI process (its port changes after a restart).

        Raises:
            TimeoutError: No complete answer within the timeout.
            httpx.TransportError: ROAPI cannot be reached or broke the connection.
        """
        import httpx

        if self._client is None:
            raise RuntimeError("The API is not started (run it under its lifespan).")
        # The params go as a tuple because httpx types them covariantly only as tuples.
        send = functools.partial(
            self._client.request,
            method,
            self.process.url + path,
            params=tuple(params or ()),
            content=content,
            headers=headers,
        )
        try:
            # httpx's read timeout is per read; the setting bounds the whole answer.
            async with asyncio.timeout(self.settings.timeout):
                try:
                    return await send()
                except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                    # A keep-alive connection ROAPI closed while idle: retry once on a new one
                    # (every forwarded request is a read), so a stale socket restarts nothing.
                    return await send()
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc)) from exc

    async def forward(
        self,
        request: Request,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        content: bytes = b"",
    ) -> Response:
        import httpx
        from starlette.responses import Response

        if not self.process.alive():
            self.schedule_restart()
            return error(503, "unavailable", "The query engine is restarting; retry shortly.",
                         {"Retry-After": "1"})  # fmt: skip
        wanted = request.headers.get("accept", "").split(";")[0].strip().lower()
        headers = {"Accept": wanted} if wanted in MEDIA_TYPES else {}
        if wanted == "text/csv":  # ROAPI 0.12 answers JSON to Accept: text/csv; convert Arrow
            headers["Accept"] = "application/vnd.apache.arrow.stream"
        try:
            upstream = await self.upstream(
                method, path, params=params, content=content, headers=headers
            )
        except TimeoutError:
            return error(504, "timeout", f"The query took longer than {self.settings.timeout:g}s.")
        except httpx.TransportError:
            self.schedule_restart()
            return error(503, "unavailable", "The query engine is restarting; retry shortly.",
                         {"Retry-After": "1"})  # fmt: skip
        body = upstream.content
        media = upstream.headers.get("content-type", "application/json")
        if upstream.status_code == 200 and wanted == "text/csv":
            body = await asyncio.to_thread(_arrow_to_csv, body)
            media = "text/csv; charset=utf-8"
        return Response(body, status_code=upstream.status_code, headers={"content-type": media})

    # -- routes --------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        alive = self.process.alive()
        return JSONResponse(
            {"status": "ok" if alive else "restarting", "tables": len(self.tables)},
            status_code=200 if alive else 503,
        )

    async def openapi_json(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        denied = self.authorize(request)
        if denied:
            return denied
        if self.openapi is None:
            self.openapi = await self._build_openapi()
        return JSONResponse(self.openapi)

    async def _build_openapi(self) -> dict[str, Any]:
        from neuralake.api.openapi import build_openapi

        schemas: dict[str, Any] = {}
        if self.process.alive():
            resp = await self.upstream("GET", "/api/schema")
            if resp.status_code == 200:
                schemas = resp.json()
        return await asyncio.to_thread(
            build_openapi,
            self.catalog,
            self.plan,
            schemas,
            row_limit=self.settings.row_limit,
            auth=self.settings.token is not None,
        )

    async def schema(self, request: Request) -> Response:
        denied = self.authorize(request)
        if denied:
            return denied
        name = request.path_params.get("name")
        if name is None:
            return await self.forward(request, "GET", "/api/schema")
        if name not in self.tables:
            return _unknown_table(name, self.tables)
        return await self.forward(request, "GET", f"/api/schema/{name}")

    async def table(self, request: Request) -> Response:
        denied = self.authorize(request)
        if denied:
            return denied
        name = request.path_params["name"]
        if name not in self.tables:
            return _unknown_table(name, self.tables)
        try:
            params = check_rest_params(request.query_params, row_limit=self.settings.row_limit)
        except QueryRejectedError as exc:
            return error(exc.status, "rejected", str(exc))
        return await self.forward(request, "GET", f"/api/tables/{name}", params=params)

    async def sql(self, request: Request) -> Response:
        denied = self.authorize(request)
        if denied:
            return denied
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.settings.max_sql_chars * 4:
                return error(413, "too_long", "Query too long.")
        try:
            text = body.decode("utf-8")
            query = check_sql(
                text,
                tables=self.tables,
                row_limit=self.settings.row_limit,
                max_chars=self.settings.max_sql_chars,
            )
        except UnicodeDecodeError:
            return error(400, "rejected", "The query must be UTF-8 text.")
        except QueryRejectedError as exc:
            return error(exc.status, "rejected", str(exc))
        return await self.forward(request, "POST", "/api/sql", content=query.encode("utf-8"))


def _arrow_to_csv(body: bytes) -> bytes:
    import io

    import polars as pl

    return pl.read_ipc_stream(io.BytesIO(body)).write_csv().encode("utf-8")


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error in ROAPI's shape: ``{"code", "error", "message"}``."""
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"code": status, "error": kind, "message": message}, status_code=status, headers=headers
    )


def _unknown_table(name: str, tables: set[str]) -> Response:
    from neuralake.errors import did_you_mean

    return error(
        404,
        "table_not_found",
        f"No table {name!r}.{did_you_mean(name, tables)} Tables: {', '.join(sorted(tables))}.",
    )


def create_app(
    catalog: Catalog,
    *,
    token_env: str | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_sql_chars: int = DEFAULT_MAX_SQL_CHARS,
    materialize: str | Path | None = None,
    reload_interval: float | None = None,
    memory_threshold_bytes: int | None = None,
    roapi_bin: str | None = None,
    workdir: str | Path | None = None,
) -> Starlette:
    """Build the guard app; ROAPI starts when the app starts (lifespan) and stops with it.

    Args:
        catalog: The catalog to serve (its Delta and Parquet tables; see
            :func:`neuralake.export.roapi.plan_roapi`).
        token_env: Name of the environment variable holding the bearer token; ``None``
            disables auth. The variable must be set and non-empty.
        row_limit: Most rows one request returns.
        timeout: Seconds per request before answering 504.
        max_sql_chars: Longest accepted SQL query.
        materialize: Folder for Parquet snapshots of function/directory tables.
        reload_interval: Seconds between ROAPI table reloads.
        memory_threshold_bytes: Tables up to this size are loaded into ROAPI's memory.
        roapi_bin: Path of the roapi binary.
        workdir: Folder for ROAPI's config and log (default: a temporary folder).

    Raises:
        ApiConfigError: ``token_env`` names an unset variable.
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    from neuralake.api.process import RoapiProcess
    from neuralake.export.roapi import (
        DEFAULT_MEMORY_THRESHOLD_BYTES,
        plan_roapi,
        roapi_environment,
    )

    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise ApiConfigError(
                f"Environment variable {token_env} is not set; set it to the API token or "
                "drop --token-env to serve without auth."
            )
    plan = plan_roapi(
        catalog,
        materialize=materialize,
        reload_interval=reload_interval,
        memory_threshold_bytes=memory_threshold_bytes or DEFAULT_MEMORY_THRESHOLD_BYTES,
    )
    if not plan.tables:
        raise ApiConfigError(
            f"Catalog {catalog.name!r} has no table ROAPI can serve"
            + (f" ({'; '.join(f'{s.qualified_name}: {s.reason}' for s in plan.skipped)})")
            + "."
        )
    process = RoapiProcess(
        plan.to_dict(), env=roapi_environment(catalog, plan), binary=roapi_bin, workdir=workdir
    )
    settings = ApiSettings(row_limit, timeout, max_sql_chars, token)
    guard = Guard(catalog, plan, process, settings)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return error(status, "not_found" if status == 404 else "error",
                     "Not found. Endpoints: /api/tables/{name}, /api/schema, /api/sql, "
                     "/openapi.json" if status == 404 else str(exc))  # fmt: skip

    handler = Callable[["Request"], Awaitable["Response"]]
    routes: list[tuple[str, handler, list[str]]] = [
        ("/health", guard.health, ["GET"]),
        ("/openapi.json", guard.openapi_json, ["GET"]),
        ("/api/schema", guard.schema, ["GET"]),
        ("/api/schema/{name}", guard.schema, ["GET"]),
        ("/api/tables/{name}", guard.table, ["GET"]),
        ("/api/sql", guard.sql, ["POST"]),
    ]
    app = Starlette(
        routes=[Route(p, h, methods=m) for p, h, m in routes],
        lifespan=guard.lifespan,
        exception_handlers={HTTPException: not_found},
    )
    app.state.guard = guard
    return app


def serve(catalog: Catalog, *, host: str = "127.0.0.1", port: int = 8080, **kwargs: Any) -> None:
    """Run the API with uvicorn until interrupted; ``kwargs`` go to :func:`create_app`."""
    import uvicorn

    app = create_app(catalog, **kwargs)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
