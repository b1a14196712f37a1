"""The read-only API: Starlette in front of a pool of killable query workers.

Every query runs in a worker process (:mod:`neuralake.api.workers`) through the same engine as
``catalog.sql`` and ``catalog.table``, under the same ``db.table`` names: ``POST /api/sql``
takes one sandboxed SELECT, ``GET /api/tables/{db}.{table}`` a REST read with
``columns``/``sort``/``limit``/``filter[col]OP=value``; ``GET /api/tables`` and
``/api/schema[/{name}]`` list tables and columns; ``/openapi.json`` describes it all. Answers
come as JSON, CSV, Arrow (file or stream) or Parquet by ``Accept`` (406 otherwise) and say when
they were cut at the row limit (``X-Neuralake-Truncated``). The event loop only moves bytes:
parsing and planning happen in the workers.

Example:
    >>> app = create_app("examples.tpch.catalog:catalog", row_limit=1000)  # doctest: +SKIP
    >>> serve("examples.tpch.catalog:catalog", port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neuralake.api.defaults import (
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_SQL_CHARS,
    DEFAULT_MEMORY_MB,
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_WORKERS,
)
from neuralake.api.queries import JSON, MEDIA_TYPES, Job, Reply
from neuralake.api.workers import CatalogSource, Limits, WorkerPool
from neuralake.errors import NeuralakeError, did_you_mean

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

logger = logging.getLogger("neuralake.api")


class ApiConfigError(NeuralakeError, ValueError):
    """The API cannot start as configured (e.g. no token on a public address)."""


@dataclass(frozen=True)
class ApiSettings:
    """How the API behaves.

    Attributes:
        row_limit: Most rows one answer holds (more are cut, and the answer says so).
        timeout: Seconds a query may run before its worker is killed (504).
        max_sql_chars: Longest accepted SQL query.
        token: Bearer token required on every ``/api`` request and ``/openapi.json``, or None.
        workers: Query worker processes.
        memory_mb: Memory one query may use before its worker is killed (507).
        max_queued: Queries that may wait for a worker; more are answered 429.
    """

    row_limit: int = DEFAULT_ROW_LIMIT
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_sql_chars: int = DEFAULT_MAX_SQL_CHARS
    token: str | None = None
    workers: int = DEFAULT_WORKERS
    memory_mb: int = DEFAULT_MEMORY_MB
    max_queued: int = DEFAULT_MAX_QUEUED

    def __repr__(self) -> str:  # never show the token
        return (
            f"ApiSettings(row_limit={self.row_limit}, timeout={self.timeout}, "
            f"max_sql_chars={self.max_sql_chars}, token={'***' if self.token else None}, "
            f"workers={self.workers}, memory_mb={self.memory_mb}, max_queued={self.max_queued})"
        )


class Api:
    """The request handlers and the worker pool they share."""

    def __init__(self, pool: WorkerPool, settings: ApiSettings) -> None:
        self.pool = pool
        self.settings = settings
        self.tables: dict[str, dict[str, Any]] = {}
        self._openapi: dict[str, Any] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.pool.start()
        try:
            listing = await self.pool.run(Job("tables"))
            if listing.status != 200:
                raise ApiConfigError(f"Cannot list the catalog's tables: {listing.body.decode()}")
            self.tables = {t["name"]: t for t in json.loads(listing.body)}
            logger.info("serving %d tables with %d query workers",
                        len(self.tables), self.pool.size)  # fmt: skip
            yield
        finally:
            await self.pool.close()

    # -- helpers -----------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response | None:
        """``None`` if the request may proceed, else a 401 response."""
        token = self.settings.token
        if token is None:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        ok = hmac.compare_digest(given.strip().encode(), token.encode())
        if scheme.lower() == "bearer" and ok:
            return None
        return error(401, "unauthorized", "Missing or wrong bearer token.",
                     {"WWW-Authenticate": 'Bearer realm="neuralake"'})  # fmt: skip

    async def answer(self, job: Job) -> Response:
        from starlette.responses import Response

        reply: Reply = await self.pool.run(job)
        headers = {"Server-Timing": f"query;dur={reply.elapsed_ms}"}
        if reply.status == 200:
            headers["X-Neuralake-Truncated"] = "true" if reply.truncated else "false"
            headers["X-Neuralake-Rows"] = str(reply.rows)
        if reply.status in (429, 503):
            headers["Retry-After"] = "1"
        return Response(reply.body, status_code=reply.status, media_type=reply.media,
                        headers=headers)  # fmt: skip

    def unknown_table(self, name: str) -> Response:
        return error(404, "table_not_found",
                     f"No table {name!r}.{did_you_mean(name, self.tables)} Tables are named "
                     f"db.table: {', '.join(sorted(self.tables))}.")  # fmt: skip

    # -- routes ------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        workers = len(self.pool.pids())
        ok = workers > 0
        return JSONResponse({"status": "ok" if ok else "starting", "tables": len(self.tables),
                             "workers": workers}, status_code=200 if ok else 503)  # fmt: skip

    async def openapi_json(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        from neuralake.api.openapi import build_openapi

        if denied := self.authorize(request):
            return denied
        if self._openapi is None:
            self._openapi = build_openapi(list(self.tables.values()), self.settings.row_limit,
                                          auth=self.settings.token is not None)  # fmt: skip
        return JSONResponse(self._openapi)

    async def listing(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        if denied := self.authorize(request):
            return denied
        return JSONResponse(
            [{k: t.get(k) for k in ("name", "type", "description")} for t in self.tables.values()]
        )

    async def schema(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        if denied := self.authorize(request):
            return denied
        name = request.path_params.get("name")
        if name is None:
            return JSONResponse({n: _columns(t) for n, t in self.tables.items()})
        if name not in self.tables:
            return self.unknown_table(name)
        return JSONResponse(_columns(self.tables[name]))

    async def table(self, request: Request) -> Response:
        if denied := self.authorize(request):
            return denied
        name = request.path_params["name"]
        if name not in self.tables:
            return self.unknown_table(name)
        media = negotiate(request.headers.get("accept"))
        if media is None:
            return _not_acceptable()
        params = tuple(request.query_params.multi_items())
        return await self.answer(Job("rest", table=name, params=params, media=media))

    async def sql(self, request: Request) -> Response:
        if denied := self.authorize(request):
            return denied
        media = negotiate(request.headers.get("accept"))
        if media is None:
            return _not_acceptable()
        limit = self.settings.max_sql_chars * 4  # bytes: a character takes at most four
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return error(413, "too_long", "The query is too long.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return error(400, "invalid_query", "The query must be UTF-8 text.")
        if len(text) > self.settings.max_sql_chars:
            return error(413, "too_long", f"The query is {len(text)} characters; the limit is "
                         f"{self.settings.max_sql_chars}.")  # fmt: skip
        if not text.strip():
            return error(400, "invalid_query", "POST one SELECT statement as the request body.")
        return await self.answer(Job("sql", text=text, media=media))


def _columns(table: dict[str, Any]) -> dict[str, Any]:
    if "error" in table:
        return {"error": table["error"]}
    return {"columns": table["columns"]}


def negotiate(accept: str | None) -> str | None:
    """The response format for an ``Accept`` header (JSON when absent), ``None`` if none fits."""
    if not accept or not accept.strip():
        return JSON
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *options = (p.strip() for p in part.split(";"))
        q = 1.0
        for opt in options:
            key, _, value = opt.partition("=")
            if key.strip() == "q":
                with contextlib.suppress(ValueError):
                    q = float(value)
        ranked.append((-q, i, media.lower()))
    for q, _, media in sorted(ranked):
        if q == 0:
            continue
        if media in MEDIA_TYPES:
            return media
        if media in ("*/*", "application/*"):
            return JSON
    return None


def _not_acceptable() -> Response:
    return error(406, "not_acceptable", f"Cannot answer in that format; ask for one of: "
                 f"{', '.join(MEDIA_TYPES)}.")  # fmt: skip


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error: ``{"code", "error", "message"}``."""
    from starlette.responses import Response

    reply = Reply.error(status, kind, message)
    return Response(reply.body, status_code=status, media_type=JSON, headers=headers)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(
    source: CatalogSource,
    *,
    token_env: str | None = None,
    host: str = "127.0.0.1",
    row_limit: int = DEFAULT_ROW_LIMIT,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_sql_chars: int = DEFAULT_MAX_SQL_CHARS,
    workers: int = DEFAULT_WORKERS,
    memory_mb: int = DEFAULT_MEMORY_MB,
    max_queued: int = DEFAULT_MAX_QUEUED,
) -> Starlette:
    """Build the API app; its workers start when the app starts (lifespan) and stop with it.

    Args:
        source: The catalog, as a ``package.module:attribute`` reference (or a picklable
            zero-argument callable returning it): each worker process loads it.
        token_env: Environment variable holding the bearer token; ``None`` disables auth,
            which only a loopback ``host`` allows.
        host: The address the app will be served on (decides whether a token is required).
        row_limit: Most rows one answer holds.
        timeout: Seconds a query may run before its worker is killed.
        max_sql_chars: Longest accepted SQL query.
        workers: Query worker processes.
        memory_mb: Memory one query may use before its worker is killed.
        max_queued: Queries that may wait for a worker before more get 429.

    Raises:
        ApiConfigError: ``token_env`` names an unset variable, or no token on a public host.
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise ApiConfigError(
                f"Environment variable {token_env} is not set; set it to the API token or "
                "drop --token-env to serve on 127.0.0.1 without auth."
            )
    elif not is_loopback(host):
        raise ApiConfigError(
            f"Serving on {host} needs a bearer token: put one in an environment variable and "
            "pass --token-env VAR (or serve on 127.0.0.1)."
        )
    for name, value in (("row_limit", row_limit), ("workers", workers),
                        ("memory_mb", memory_mb), ("max_sql_chars", max_sql_chars)):  # fmt: skip
        if value < 1:
            raise ApiConfigError(f"{name} must be at least 1, got {value}.")
    settings = ApiSettings(row_limit, timeout, max_sql_chars, token, workers, memory_mb,
                           max_queued)  # fmt: skip
    limits = Limits(row_limit, timeout, memory_mb << 20)
    api = Api(WorkerPool(source, workers=workers, limits=limits, max_queued=max_queued), settings)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return error(status, "not_found" if status == 404 else "error",
                     "Not found. Endpoints: /api/tables[/{db}.{table}], /api/schema, /api/sql, "
                     "/openapi.json" if status == 404 else "Method not allowed.")  # fmt: skip

    handler = Callable[["Request"], Awaitable["Response"]]
    routes: list[tuple[str, handler, list[str]]] = [
        ("/health", api.health, ["GET"]),
        ("/openapi.json", api.openapi_json, ["GET"]),
        ("/api/tables", api.listing, ["GET"]),
        ("/api/tables/{name}", api.table, ["GET"]),
        ("/api/schema", api.schema, ["GET"]),
        ("/api/schema/{name}", api.schema, ["GET"]),
        ("/api/sql", api.sql, ["POST"]),
    ]
    app = Starlette(
        routes=[Route(p, h, methods=m) for p, h, m in routes],
        lifespan=api.lifespan,
        exception_handlers={HTTPException: not_found},
    )
    app.state.api = api
    return app


def serve(source: CatalogSource, *, host: str = "127.0.0.1", port: int = 8080,
          **kwargs: Any) -> None:  # fmt: skip
    """Run the API with uvicorn until interrupted; ``kwargs`` go to :func:`create_app`.

    Raises:
        ApiConfigError: As :func:`create_app`, or the port is taken.
    """
    import socket

    import uvicorn

    app = create_app(source, host=host, **kwargs)
    # Bind first, so a taken port is a one-line error before any worker starts.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ApiConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}. "
                             "Pick another --port.") from exc  # fmt: skip
    config = uvicorn.Config(app, log_level="info", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
