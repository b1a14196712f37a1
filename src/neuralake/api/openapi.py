"""The OpenAPI 3.1 document of the read-only API: every table, its columns and query parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralake.api.queries import JSON, MEDIA_TYPES
from neuralake.predicate.rest import REST_OPS

_INTEGER = ("Int", "UInt")
_NUMBER = ("Float", "Decimal")


def json_type(dtype: str) -> dict[str, Any]:
    """JSON Schema for a Polars dtype as ``str(dtype)`` writes it."""
    if dtype.startswith(_INTEGER):
        return {"type": "integer"}
    if dtype.startswith(_NUMBER):
        return {"type": "number"}
    if dtype == "Boolean":
        return {"type": "boolean"}
    if dtype == "Date":
        return {"type": "string", "format": "date"}
    if dtype.startswith("Datetime"):
        return {"type": "string", "format": "date-time"}
    if dtype.startswith(("List", "Array")):
        return {"type": "array"}
    if dtype.startswith("Struct"):
        return {"type": "object"}
    return {"type": "string"}


def build_openapi(
    tables: Sequence[dict[str, Any]], row_limit: int, *, auth: bool, title: str = "neuralake"
) -> dict[str, Any]:
    """The OpenAPI document.

    Args:
        tables: The workers' table listing (name, description, columns or error).
        row_limit: Most rows one answer holds.
        auth: Whether a bearer token is required.
        title: Document title.
    """
    ops = ", ".join(s for s in REST_OPS.values() if s)
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for t in tables:
        name = t["name"]
        props = {}
        for c in t.get("columns", ()):
            prop = json_type(c["type"])
            if c.get("description"):
                prop["description"] = c["description"]
            props[c["name"]] = prop
        components[name] = {"type": "object", "title": name,
                            "description": t.get("description") or "", "properties": props}  # fmt: skip
        params: list[dict[str, Any]] = [
            {"name": "columns", "in": "query", "schema": {"type": "string"},
             "description": "Comma-separated columns to return."},
            {"name": "sort", "in": "query", "schema": {"type": "string"},
             "description": "Comma-separated columns; prefix '-' for descending."},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": row_limit},
             "description": f"Most rows to return (at most {row_limit})."},
        ]  # fmt: skip
        for col in props:
            params.append({
                "name": f"filter[{col}]", "in": "query", "schema": {"type": "string"},
                "description": f"filter[{col}]=VALUE for equality, or filter[{col}]OP=VALUE with "
                               f"OP in {ops}. Values are bare and typed by the column "
                               "(1998-07-01, 12.50, true, Brand#13).",
            })  # fmt: skip
        paths[f"/api/tables/{name}"] = {
            "get": {
                "operationId": f"read_{name.replace('.', '_')}",
                "summary": f"Read {name}",
                "description": t.get("description") or t.get("error") or "",
                "tags": [name.split(".", 1)[0]],
                "parameters": params,
                "responses": _responses({"$ref": f"#/components/schemas/{name}"}, row_limit),
            }
        }
    paths["/api/tables"] = {"get": {"operationId": "tables", "summary": "Every table",
                                    "responses": {"200": {"description": "Names and docs"}}}}  # fmt: skip
    paths["/api/schema"] = {"get": {"operationId": "schema", "summary": "Columns of every table",
                                    "responses": {"200": {"description": "Columns by table"}}}}  # fmt: skip
    paths["/api/sql"] = {
        "post": {
            "operationId": "sql",
            "summary": "Run one read-only SELECT",
            "description": (
                "One SELECT (or WITH ... SELECT) over the tables above by their db.table names, "
                f"as catalog.sql runs it; at most {row_limit} rows. Table functions, file and URL "
                "reads, writes, DDL, COPY, SET and multiple statements are refused with 403."
            ),
            "requestBody": {"required": True,
                            "content": {"text/plain": {"schema": {"type": "string"}}}},
            "responses": _responses({"type": "object"}, row_limit),
        }
    }  # fmt: skip
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"{title} read-only API", "version": "2",
                 "description": "Read-only SQL/REST API over the catalog's tables."},
        "paths": paths,
        "components": {"schemas": components},
    }  # fmt: skip
    if auth:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"bearer": []}]
    return doc


def _responses(row: dict[str, Any], row_limit: int) -> dict[str, Any]:
    rows = {"type": "object", "properties": {
        "rows": {"type": "array", "items": row},
        "truncated": {"type": "boolean", "description": f"More than {row_limit} rows matched."},
        "row_limit": {"type": "integer"}}}  # fmt: skip
    content: dict[str, Any] = {JSON: {"schema": rows}}
    for media in MEDIA_TYPES[1:]:
        content[media] = {"schema": {"type": "string", "format": "binary"}}
    return {
        "200": {"description": "Rows (format by Accept; X-Neuralake-Truncated says if cut)",
                "content": content},
        "400": {"description": "Invalid query or parameter"},
        "401": {"description": "Missing or wrong bearer token"},
        "403": {"description": "The query uses something the sandbox refuses"},
        "404": {"description": "No such table"},
        "406": {"description": "No supported format in Accept"},
        "413": {"description": "Query too long"},
        "429": {"description": "Too many queries at once; retry"},
        "504": {"description": "Query timed out (stopped)"},
        "507": {"description": "Query needed too much memory (stopped)"},
    }  # fmt: skip
