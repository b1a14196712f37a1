"""A loopback TCP proxy that can cut every connection, run as
``python tcp_proxy.py LISTEN_PORT UPSTREAM_PORT CUT_AFTER_BYTES``.

It forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:UPSTREAM_PORT and prints ``ready PORT`` once it
listens. When CUT_AFTER_BYTES > 0 and the clients have sent more than that many bytes in total,
it prints ``cut`` and exits: the listener and every open connection close at once, as when a
network link drops in the middle of a request. It runs in its own process because delta-rs holds
the GIL while it waits on some S3 calls, which would stall a proxy thread in the test process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading

_lock = threading.Lock()
_sent = 0


def _pump(src: socket.socket, dst: socket.socket, cut_after: int, upstream: bool) -> None:
    global _sent
    try:
        while chunk := src.recv(65536):
            if upstream and cut_after > 0:
                with _lock:
                    _sent += len(chunk)
                    if _sent > cut_after:
                        print("cut", flush=True)
                        os._exit(0)  # closes the listener and every connection at once
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def _serve(client: socket.socket, upstream_port: int, cut_after: int) -> None:
    try:
        server = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    threading.Thread(target=_pump, args=(server, client, cut_after, False), daemon=True).start()
    _pump(client, server, cut_after, True)


def main() -> None:
    listen_port, upstream_port, cut_after = (int(a) for a in sys.argv[1:4])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(64)
    print(f"ready {listener.getsockname()[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(
            target=_serve, args=(client, upstream_port, cut_after), daemon=True
        ).start()


if __name__ == "__main__":
    main()
