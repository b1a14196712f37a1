"""What an API worker does with one job: run it through the catalog and encode the answer.

SQL goes through ``catalog.sql`` (the sandboxed engine every surface shares) and REST reads
through ``catalog.table`` with filters parsed by :func:`~neuralake.predicate.parse_rest`, so
the API returns exactly the rows Python does. At most ``row_limit`` rows come back; one more is
read to tell whether the answer was cut, and a cut answer says so.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from neuralake.errors import (
    DatabaseNotFoundError,
    InvalidFilterError,
    InvalidParameterError,
    NeuralakeError,
    SchemaMismatchError,
    SQLError,
    SQLNotAllowedError,
    StorageError,
    TableNotFoundError,
    UnsupportedFeatureError,
)

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

JSON = "application/json"
MEDIA_TYPES = (
    JSON,
    "text/csv",
    "application/vnd.apache.arrow.file",
    "application/vnd.apache.arrow.stream",
    "application/parquet",
)
#: Query parameters of ``GET /api/tables/{name}`` besides ``filter[...]``.
REST_PARAMS = ("columns", "sort", "limit")

# Errors by class (never by message): the HTTP status and the ``error`` field.
_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (SQLNotAllowedError, 403, "forbidden"),
    (TableNotFoundError, 404, "table_not_found"),
    (DatabaseNotFoundError, 404, "table_not_found"),
    (UnsupportedFeatureError, 422, "unsupported"),
    (StorageError, 503, "storage_unavailable"),
    (SQLError, 400, "invalid_query"),
    (InvalidFilterError, 400, "invalid_filter"),
    (InvalidParameterError, 400, "invalid_parameter"),
    (SchemaMismatchError, 400, "invalid_query"),
    (NeuralakeError, 400, "invalid_request"),
)


@dataclass(frozen=True)
class Job:
    """One request for a worker.

    Attributes:
        kind: ``"sql"``, ``"rest"`` (a table read) or ``"tables"`` (names, docs and schemas).
        text: The SQL query (``"sql"``).
        table: The qualified table name (``"rest"``).
        params: The REST query parameters (``"rest"``).
        media: The response format (one of :data:`MEDIA_TYPES`).
    """

    kind: Literal["sql", "rest", "tables"]
    text: str = ""
    table: str = ""
    params: tuple[tuple[str, str], ...] = ()
    media: str = JSON


@dataclass(frozen=True)
class Reply:
    """A worker's answer: an HTTP status, a body in ``media`` and what the headers say."""

    status: int
    body: bytes
    media: str = JSON
    truncated: bool = False
    rows: int = 0
    #: Milliseconds the worker spent planning, running and encoding the query.
    elapsed_ms: float = 0.0

    @classmethod
    def error(cls, status: int, kind: str, message: str) -> Reply:
        """A JSON error: ``{"code", "error", "message"}``."""
        body = json.dumps({"code": status, "error": kind, "message": message})
        return cls(status, body.encode())


def execute(catalog: Catalog, job: Job, row_limit: int) -> Reply:
    """Run ``job``; every failure becomes an error reply (the worker survives it)."""
    started = time.perf_counter()
    reply = _execute(catalog, job, row_limit)
    return replace(reply, elapsed_ms=round((time.perf_counter() - started) * 1000, 2))


def _execute(catalog: Catalog, job: Job, row_limit: int) -> Reply:
    try:
        if job.kind == "tables":
            return Reply(200, json.dumps(describe_tables(catalog)).encode())
        if job.kind == "sql":
            lf, limit = catalog.sql(job.text), row_limit
        else:
            lf, limit = _rest_frame(catalog, job.table, job.params, row_limit)
        df = lf.limit(limit + 1).collect()
    except MemoryError:
        return Reply.error(507, "out_of_memory", "The query needs more memory than allowed.")
    except RecursionError:
        return Reply.error(400, "too_deep", "The query is nested too deeply.")
    except pl.exceptions.PolarsError as exc:
        return Reply.error(400, "query_failed", f"The query failed: {_first_line(exc)}")
    except NeuralakeError as exc:
        return _error(exc)
    truncated = df.height > limit and limit == row_limit
    df = df.head(limit)
    return Reply(200, encode(df, job.media, truncated, row_limit), job.media, truncated, df.height)


def _rest_frame(
    catalog: Catalog, name: str, params: tuple[tuple[str, str], ...], row_limit: int
) -> tuple[pl.LazyFrame, int]:
    """The lazy read ``GET /api/tables/{name}?...`` asks for, and its row limit."""
    from neuralake.predicate import parse_rest

    table = catalog.get_table(name)
    schema = table.schema()
    qualified = table.qualified_name
    other = [(k, v) for k, v in params if not k.startswith("filter")]
    for key, _ in other:
        if key not in REST_PARAMS:
            raise InvalidParameterError(
                f"Unknown parameter {key!r}; use {', '.join(REST_PARAMS)} or filter[column]."
            )
    given = dict(other)
    limit = row_limit
    if "limit" in given:
        try:
            limit = int(given["limit"])
        except ValueError:
            limit = -1
        if limit < 0:
            raise InvalidParameterError(f"limit={given['limit']!r} is not a count of rows.")
    columns = [c for c in given.get("columns", "").split(",") if c] or None
    filters = parse_rest(params, schema, qualified)
    lf = catalog.table(qualified, filters=filters or None, columns=columns)
    if sort := [s for s in given.get("sort", "").split(",") if s]:
        names = [s.lstrip("+-") for s in sort]
        unknown = [n for n in names if n not in lf.collect_schema()]
        if unknown:
            raise InvalidParameterError(
                f"Cannot sort by {', '.join(unknown)}: not a returned column of {qualified!r}."
            )
        lf = lf.sort(names, descending=[s.startswith("-") for s in sort], nulls_last=True)
    return lf, min(limit, row_limit)


def describe_tables(catalog: Catalog) -> list[dict[str, Any]]:
    """Every served table: name, type, description and columns (or why it cannot be read)."""
    out = []
    for name in catalog.list_tables():
        meta = catalog.describe_table(name)
        entry: dict[str, Any] = {"name": name, "type": meta.type,
                                 "description": meta.description}  # fmt: skip
        docs = {c.name: c.description for c in meta.columns or () if c.description}
        try:
            schema = catalog.get_table(name).schema()
        except NeuralakeError as exc:
            entry["error"] = _first_line(exc)
        else:
            entry["columns"] = [
                {"name": c, "type": str(t), "description": docs.get(c)} for c, t in schema.items()
            ]
        out.append(entry)
    return out


def encode(df: pl.DataFrame, media: str, truncated: bool, row_limit: int) -> bytes:
    """``df`` in ``media``; JSON is ``{"rows": [...], "truncated": ..., "row_limit": ...}``."""
    if media == JSON:
        head = b'{"rows":'
        tail = f',"truncated":{json.dumps(truncated)},"row_limit":{row_limit}}}'.encode()
        return head + df.write_json().encode() + tail
    if media == "text/csv":
        return df.write_csv().encode()
    buf = io.BytesIO()
    if media == "application/parquet":
        df.write_parquet(buf)
    elif media == "application/vnd.apache.arrow.file":
        df.write_ipc(buf)
    else:
        df.write_ipc_stream(buf)
    return buf.getvalue()


def _error(exc: NeuralakeError) -> Reply:
    for cls, status, kind in _STATUS:
        if isinstance(exc, cls):
            return Reply.error(status, kind, _first_line(exc))
    raise AssertionError("unreachable: NeuralakeError is the last entry")


def _first_line(exc: BaseException) -> str:
    """The message's first line (Polars appends its plan; none of that is for clients)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
