"""Run the guard for the benchmark and print the URL of its ROAPI child (for direct requests).

python bench/api/serve_guard.py PORT SNAPSHOT_DIR
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from neuralake.api.server import create_app


def main() -> None:
    from examples.tpch.catalog import catalog

    port, snapshots = int(sys.argv[1]), sys.argv[2]
    app = create_app(catalog, materialize=snapshots)
    guard = app.state.guard
    inner = guard.lifespan

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with inner(app):
            print(f"ROAPI {guard.process.url}", flush=True)
            yield

    app.router.lifespan_context = lifespan
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
