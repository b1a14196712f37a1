"""Preview a built site with the standard library's HTTP server on loopback."""

from __future__ import annotations

import functools
import http.server
import os
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".gz": "application/gzip",  # the search index, unpacked by assets/search-worker.js
    }

    def log_message(self, format: str, *args: object) -> None:  # quiet by default
        pass

    def send_head(self) -> Any:
        # Pages are ``x.html`` files: ``x/`` and ``x`` redirect there (relative links on the
        # page resolve against its real URL), as static hosts with "pretty URLs" do.
        parts = urlsplit(self.path)
        local = Path(self.translate_path(parts.path))
        if not local.exists() and parts.path not in ("", "/"):
            page = Path(str(local).rstrip("/\\") + ".html")
            if page.is_file():
                target = parts.path.rstrip("/") + ".html"
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", urlunsplit(("", "", target, parts.query, "")))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
        return super().send_head()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        # A folder without index.html is not a page: no raw listing of the site's files.
        self.send_error(HTTPStatus.NOT_FOUND, "Not found")
        return None


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # The search page cancels slow searches by stopping its worker mid-download.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def make_server(directory: str | Path, host: str = "127.0.0.1",
                port: int = 8000) -> http.server.ThreadingHTTPServer:  # fmt: skip
    """A ``ThreadingHTTPServer`` serving ``directory`` (``port=0`` picks a free port)."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"No site folder at {root}; build it with `neuralake site build`.")
    handler = functools.partial(_Handler, directory=str(root))
    return _Server((host, port), handler)


def serve(directory: str | Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``directory`` until Ctrl-C; prints the URL."""
    server = make_server(directory, host, port)
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving {directory} at http://{shown}:{server.server_address[1]}/ (Ctrl-C to stop)",
          file=sys.stdout, flush=True)  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
