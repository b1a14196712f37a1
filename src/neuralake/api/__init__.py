"""The read-only SQL/REST API: ROAPI behind a SELECT-only guard.

Heavy pieces (Starlette, uvicorn, httpx, sqlglot) are imported only when used, so the catalog
site can import :func:`curl_snippet` and the CLI the defaults (:data:`DEFAULT_ROW_LIMIT`,
:data:`DEFAULT_TIMEOUT_SECONDS`, :data:`DEFAULT_MAX_SQL_CHARS`) without them.

Example:
    >>> from neuralake.api import curl_snippet
    >>> curl_snippet("http://127.0.0.1:8080", "tpch", "nation", []).splitlines()[0]
    "curl -sG 'http://127.0.0.1:8080/api/tables/tpch_nation' \\\\"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuralake.api.defaults import (
    DEFAULT_MAX_SQL_CHARS,
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT_SECONDS,
)
from neuralake.api.snippets import curl_snippet

if TYPE_CHECKING:
    from neuralake.api.guard import QueryRejectedError, check_rest_params, check_sql
    from neuralake.api.process import RoapiError, RoapiProcess
    from neuralake.api.server import ApiConfigError, ApiSettings, create_app, serve

__all__ = [
    "DEFAULT_MAX_SQL_CHARS",
    "DEFAULT_ROW_LIMIT",
    "DEFAULT_TIMEOUT_SECONDS",
    "ApiConfigError",
    "ApiSettings",
    "QueryRejectedError",
    "RoapiError",
    "RoapiProcess",
    "check_rest_params",
    "check_sql",
    "create_app",
    "curl_snippet",
    "serve",
]

_LAZY = {
    "QueryRejectedError": "neuralake.api.guard",
    "check_rest_params": "neuralake.api.guard",
    "check_sql": "neuralake.api.guard",
    "RoapiError": "neuralake.api.process",
    "RoapiProcess": "neuralake.api.process",
    "ApiConfigError": "neuralake.api.server",
    "ApiSettings": "neuralake.api.server",
    "create_app": "neuralake.api.server",
    "serve": "neuralake.api.server",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neuralake.api' has no attribute {name!r}")
