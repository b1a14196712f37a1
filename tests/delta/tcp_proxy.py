"""A loopback TCP proxy that can cut every connection or fault one S3 request, run as
``python tcp_proxy.py LISTEN_PORT UPSTREAM_PORT CUT_AFTER_BYTES [FAULT]``.

It forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:UPSTREAM_PORT and prints ``ready PORT`` once it
listens. When CUT_AFTER_BYTES > 0 and the clients have sent more than that many bytes in total,
it prints ``cut`` and exits: the listener and every open connection close at once, as when a
network link drops in the middle of a request. It runs in its own process because delta-rs holds
the GIL while it waits on some S3 calls, which would stall a proxy thread in the test process.

FAULT, if given, hits the first matching request only (later ones pass through) and prints its
name when it fires:

* ``drop-commit-reply``: a Delta commit (``PUT .../_delta_log/<20 digits>.json``) reaches the
  store, which applies it; its reply is thrown away and the client's connection closed.
* ``delay-commit-reply:SECONDS``: the reply of a commit PUT is held for SECONDS, then sent.
* ``reset-data-put:BYTES``: a data file PUT (``PUT ....parquet``) is reset (TCP RST, both
  sides) after BYTES of it went upstream; the store never sees a complete body.

Requests are recognised by their request line in the byte stream (the clients send one request
at a time per connection, so the next reply on that connection is the faulted request's).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import struct
import sys
import threading
import time

_lock = threading.Lock()
_sent = 0
_fired = False
_COMMIT = re.compile(rb"PUT [^ ]*/_delta_log/\d{20}\.json[ ?]")
_DATA = re.compile(rb"PUT [^ ]*\.parquet[ ?]")


class _Link:
    """One client connection and its upstream: what the fault does to the next reply."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client, self.server = client, server
        self.reply = ""  # "", "drop" or "delay"
        self.reset_after = -1  # bytes of the faulted data PUT still to forward
        self.tail = b""


def _take(kind: str) -> bool:
    global _fired
    with _lock:
        if _fired:
            return False
        _fired = True
        print(kind, flush=True)
        return True


def _reset(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # linger 0: the peer gets an RST, not an orderly close


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)


def _upstream(link: _Link, cut_after: int, fault: str) -> None:
    global _sent
    try:
        while chunk := link.client.recv(65536):
            if cut_after > 0:
                with _lock:
                    _sent += len(chunk)
                    if _sent > cut_after:
                        print("cut", flush=True)
                        os._exit(0)  # closes the listener and every connection at once
            seen, link.tail = link.tail + chunk, chunk[-256:]
            if fault.endswith("commit-reply") and _COMMIT.search(seen) and _take(fault):
                link.reply = "drop" if fault.startswith("drop") else "delay"
            elif fault == "reset-data-put" and link.reset_after < 0:
                match = _DATA.search(seen)
                if match and _take(fault):
                    start = max(0, match.start() - (len(seen) - len(chunk)))  # in this chunk
                    link.reset_after = start + RESET_BYTES
            if link.reset_after >= 0:
                if len(chunk) >= link.reset_after:
                    link.server.sendall(chunk[: link.reset_after])
                    _reset(link.client, link.server)
                    return
                link.reset_after -= len(chunk)
            link.server.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(link.client, link.server)


def _downstream(link: _Link) -> None:
    try:
        while chunk := link.server.recv(65536):
            if link.reply == "drop":
                _close(link.client, link.server)  # the store applied it; the client never hears
                return
            if link.reply == "delay":
                time.sleep(DELAY_SECONDS)
                link.reply = ""
            link.client.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(link.client, link.server)


def _serve(client: socket.socket, upstream_port: int, cut_after: int, fault: str) -> None:
    try:
        server = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    link = _Link(client, server)
    threading.Thread(target=_downstream, args=(link,), daemon=True).start()
    _upstream(link, cut_after, fault)


DELAY_SECONDS = 0.0
RESET_BYTES = 0


def main() -> None:
    global DELAY_SECONDS, RESET_BYTES
    listen_port, upstream_port, cut_after = (int(a) for a in sys.argv[1:4])
    fault, _, arg = (sys.argv[4] if len(sys.argv) > 4 else "").partition(":")
    if fault == "delay-commit-reply":
        DELAY_SECONDS = float(arg)
    elif fault == "reset-data-put":
        RESET_BYTES = int(arg)
    elif fault not in ("", "drop-commit-reply"):
        raise SystemExit(f"unknown fault {fault!r}")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(64)
    print(f"ready {listener.getsockname()[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(
            target=_serve, args=(client, upstream_port, cut_after, fault), daemon=True
        ).start()


if __name__ == "__main__":
    main()
