"""The OpenAPI 3.1 document of the read-only API: every table, its columns and query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.export.roapi import RoapiExport

MEDIA_TYPES = (
    "application/json",
    "text/csv",
    "application/vnd.apache.arrow.file",
    "application/vnd.apache.arrow.stream",
    "application/parquet",
)
FILTER_OPS = ("eq", "lt", "lte", "gt", "gte")


def json_type(arrow_type: Any) -> dict[str, Any]:
    """JSON Schema for an Arrow ``data_type`` as ROAPI's ``/api/schema`` reports it."""
    name = arrow_type if isinstance(arrow_type, str) else next(iter(arrow_type), "")
    if name.startswith(("Int", "UInt")):
        return {"type": "integer"}
    if name.startswith(("Float", "Decimal")):
        return {"type": "number"}
    if name == "Boolean":
        return {"type": "boolean"}
    if name.startswith("Date"):
        return {"type": "string", "format": "date"}
    if name.startswith("Timestamp"):
        return {"type": "string", "format": "date-time"}
    if name in ("List", "LargeList", "FixedSizeList"):
        return {"type": "array"}
    if name == "Struct":
        return {"type": "object"}
    return {"type": "string"}


def build_openapi(
    catalog: Catalog,
    plan: RoapiExport,
    schemas: Mapping[str, Any],
    *,
    row_limit: int,
    auth: bool,
    title: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI document.

    Args:
        catalog: The served catalog (descriptions and column docs).
        plan: The ROAPI export (served tables and their catalog names).
        schemas: ROAPI's ``/api/schema`` answer: ``{table: {"fields": [...]}}``.
        row_limit: Most rows one request returns.
        auth: Whether a bearer token is required.
        title: Document title (default: the catalog's name).
    """
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for t in plan.tables:
        meta = catalog.describe_table(t.qualified_name)
        docs = {c.name: c.description for c in meta.columns or () if c.description}
        fields = [f for f in schemas.get(t.name, {}).get("fields", [])]
        seen: set[str] = set()
        props: dict[str, Any] = {}
        for f in fields:
            if f["name"] in seen:
                continue
            seen.add(f["name"])
            prop = json_type(f.get("data_type"))
            if docs.get(f["name"]):
                prop["description"] = docs[f["name"]]
            props[f["name"]] = prop
        components[t.name] = {
            "type": "object",
            "title": t.qualified_name,
            "description": meta.description,
            "properties": props,
        }
        params: list[dict[str, Any]] = [
            {"name": "columns", "in": "query", "schema": {"type": "string"},
             "description": "Comma-separated columns to return."},
            {"name": "sort", "in": "query", "schema": {"type": "string"},
             "description": "Comma-separated columns; prefix '-' for descending."},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": row_limit},
             "description": f"Most rows to return (capped at {row_limit})."},
        ]  # fmt: skip
        for name in props:
            params.append(
                {
                    "name": f"filter[{name}]",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": (
                        f"Filter on {name}: filter[{name}]=VALUE for equality, or "
                        f"filter[{name}]OP=VALUE with OP in {', '.join(FILTER_OPS)}. Strings are "
                        "single-quoted ('Brand#13'), numbers bare."
                    ),
                }
            )
        row = {"$ref": f"#/components/schemas/{t.name}"}
        paths[f"/api/tables/{t.name}"] = {
            "get": {
                "operationId": f"query_{t.name}",
                "summary": f"Query {t.qualified_name}",
                "description": meta.description,
                "tags": [t.qualified_name.split(".", 1)[0]],
                "parameters": params,
                "responses": _responses({"type": "array", "items": row}),
            }
        }
    paths["/api/schema"] = {
        "get": {
            "operationId": "schema",
            "summary": "Arrow schemas of every table",
            "responses": {"200": {"description": "Schemas by table",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }
    }  # fmt: skip
    paths["/api/sql"] = {
        "post": {
            "operationId": "sql",
            "summary": "Run one read-only SELECT",
            "description": (
                "One SELECT (or WITH ... SELECT) over the tables above, at most "
                f"{row_limit} rows; writes, DDL, COPY, SET, comments and multiple statements are "
                "rejected with 400."
            ),
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "responses": _responses({"type": "array", "items": {"type": "object"}}),
        }
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title or f"{catalog.name} read-only API",
            "version": "1",
            "description": "Read-only SQL/REST API over the catalog's tables (ROAPI behind a guard).",
        },
        "paths": paths,
        "components": {"schemas": components},
    }
    if auth:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"bearer": []}]
    return doc


def _responses(schema: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    for media in MEDIA_TYPES[1:]:
        content[media] = {"schema": {"type": "string", "format": "binary"}}
    return {
        "200": {"description": "Rows (format chosen by the Accept header)", "content": content},
        "400": {"description": "Rejected or invalid query"},
        "401": {"description": "Missing or wrong bearer token"},
        "503": {"description": "Query engine restarting; retry"},
        "504": {"description": "Query timed out"},
    }
