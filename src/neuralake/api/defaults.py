"""The API's library defaults, importable without Starlette, httpx or sqlglot.

The CLI and :func:`neuralake.api.server.create_app` read these instead of repeating numbers.
"""

from __future__ import annotations

#: Most rows one API request returns (a larger or missing ``LIMIT`` is capped to this).
DEFAULT_ROW_LIMIT = 10_000

#: Seconds one request may take in the query engine before the API answers 504.
DEFAULT_TIMEOUT_SECONDS = 30.0

#: Longest accepted SQL query, in characters.
DEFAULT_MAX_SQL_CHARS = 10_000
