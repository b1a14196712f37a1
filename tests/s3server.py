"""moto's S3 server with atomic conditional writes, run as ``python tests/s3server.py PORT``.

Real S3 checks ``If-None-Match`` / ``If-Match`` and stores the object atomically; moto's
threaded server checks and then writes without a lock, so two Delta writers racing for the same
commit file could both "win" there. Serialising the object writes restores S3's guarantee;
reads still run concurrently.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_write_lock = threading.Lock()


class AtomicWrites:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") not in ("PUT", "POST", "DELETE"):
            return self.app(environ, start_response)
        with _write_lock:
            return list(self.app(environ, start_response))


if __name__ == "__main__":
    run_simple(
        "127.0.0.1",
        int(sys.argv[1]),
        AtomicWrites(DomainDispatcherApplication(create_backend_app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
