"""The API's library defaults, importable without Starlette or uvicorn.

The CLI and :func:`neuralake.api.server.create_app` read these instead of repeating numbers.
"""

from __future__ import annotations

#: Most rows one API answer holds (more are cut, and the answer says so).
DEFAULT_ROW_LIMIT = 10_000

#: Seconds one query may run before its worker is killed and the API answers 504.
DEFAULT_TIMEOUT_SECONDS = 30.0

#: Longest accepted SQL query, in characters.
DEFAULT_MAX_SQL_CHARS = 10_000

#: Query worker processes.
DEFAULT_WORKERS = 2

#: Memory (MiB) one query may use before its worker is killed and the API answers 507.
DEFAULT_MEMORY_MB = 2048

#: Queries that may wait for a free worker; more are answered 429.
DEFAULT_MAX_QUEUED = 16
