"""Preview a built site with the standard library's HTTP server on loopback."""

from __future__ import annotations

import functools
import http.server
import sys
from pathlib import Path


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".pf_meta": "application/octet-stream",
        ".pf_index": "application/octet-stream",
        ".pf_fragment": "application/octet-stream",
        ".pf_filter": "application/octet-stream",
    }

    def log_message(self, format: str, *args: object) -> None:  # quiet by default
        pass


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
