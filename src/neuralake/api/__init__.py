"""The read-only SQL/REST API: the catalog's own SQL engine in killable worker processes.

Heavy pieces (Starlette, uvicorn) are imported only when used, so the catalog site can import
:func:`curl_snippet` and the CLI the defaults without them.

Example:
    >>> from neuralake.api import curl_snippet
    >>> curl_snippet("http://127.0.0.1:8080", "tpch", "nation", []).splitlines()[0]
    "curl -sG 'http://127.0.0.1:8080/api/tables/tpch.nation' \\\\"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuralake.api.defaults import (
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_SQL_CHARS,
    DEFAULT_MEMORY_MB,
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_WORKERS,
)
from neuralake.api.snippets import curl_snippet

if TYPE_CHECKING:
    from neuralake.api.server import ApiConfigError, ApiSettings, create_app, serve
    from neuralake.api.workers import WorkerStartError

__all__ = [
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_MAX_SQL_CHARS",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_ROW_LIMIT",
    "DEFAULT_TIMEOUT_SECONDS",
    "DEFAULT_WORKERS",
    "ApiConfigError",
    "ApiSettings",
    "WorkerStartError",
    "create_app",
    "curl_snippet",
    "serve",
]

_LAZY = {
    "ApiConfigError": "neuralake.api.server",
    "ApiSettings": "neuralake.api.server",
    "create_app": "neuralake.api.server",
    "serve": "neuralake.api.server",
    "WorkerStartError": "neuralake.api.workers",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neuralake.api' has no attribute {name!r}")
