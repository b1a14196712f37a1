"""Run the ROAPI server binary on an exported config, as a child process on loopback ports.

For trying an export (``neuralake roapi``) locally; the read-only API does not use ROAPI.
ROAPI listens for HTTP, Postgres wire and FlightSQL traffic, and every one of them accepts
``INSERT`` and ``COPY ... TO`` (which writes files) from any local user: all three are bound to
free ports on ``127.0.0.1``, and the process stops with its owner. Object storage settings are
passed in the child's environment only, never in ``os.environ`` of this process.

Example:
    >>> proc = RoapiProcess(plan.to_dict(), env=roapi_environment(catalog, plan))  # doctest: +SKIP
    >>> proc.start(); proc.url  # doctest: +SKIP
    'http://127.0.0.1:41234'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralake.errors import NeuralakeError

LOOPBACK = "127.0.0.1"


class RoapiError(NeuralakeError, RuntimeError):
    """The ROAPI binary is missing, or failed to start (the message has its log tail)."""


def find_roapi(binary: str | None = None) -> str:
    """Path of the ``roapi`` binary: ``binary``, next to this Python, or on ``PATH``."""
    candidates = [binary] if binary else []
    candidates.append(str(Path(sys.executable).with_name("roapi")))
    found = shutil.which("roapi")
    if found:
        candidates.append(found)
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    raise RoapiError(
        "Cannot find the roapi binary. Install it with `pip install roapi` (the wheel ships the "
        "server binary) or pass --roapi-bin PATH."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


class RoapiProcess:
    """One ROAPI server process serving ``config`` (a ROAPI config dict without ``addr``).

    Args:
        config: ROAPI config (``tables`` etc.); ``addr`` is set here to loopback ports.
        env: Extra environment for the child (e.g. ``AWS_*`` settings; may hold secrets).
        binary: Path of the roapi binary (default: found by :func:`find_roapi`).
        startup_timeout: Seconds to wait for ROAPI to answer ``/health``.
        workdir: Folder for the generated config and the log (default: a temporary folder).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        binary: str | None = None,
        startup_timeout: float = 60.0,
        workdir: str | Path | None = None,
    ) -> None:
        self.config = dict(config)
        self.env = dict(env or {})
        self.binary = find_roapi(binary)
        self.startup_timeout = startup_timeout
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="neuralake-roapi-")
        self.workdir = Path(workdir) if workdir else Path(self._tmp.name)  # type: ignore[union-attr]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.restarts = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL of ROAPI's HTTP endpoint."""
        if self.port is None:
            raise RoapiError("ROAPI is not running.")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "roapi.log"

    def alive(self) -> bool:
        """True while the child process runs."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start ROAPI and wait until it answers; raises :class:`RoapiError` if it cannot."""
        from neuralake.export.roapi import to_yaml

        with self._lock:
            if self.alive():
                return
            last: Exception | None = None
            for _ in range(3):  # a port picked as free can be taken before ROAPI binds it
                ports = [free_port() for _ in range(3)]
                config = {
                    "addr": {
                        "http": f"{LOOPBACK}:{ports[0]}",
                        "postgres": f"{LOOPBACK}:{ports[1]}",
                        "flight_sql": f"{LOOPBACK}:{ports[2]}",
                    },
                    **self.config,
                }
                path = self.workdir / "roapi.yaml"
                path.write_text(to_yaml(config), encoding="utf-8")
                child_env = {**os.environ, **self.env}
                child_env.setdefault("RUST_LOG", "warn")
                with self.log_path.open("ab") as log:
                    self.proc = subprocess.Popen(
                        [self.binary, "-c", str(path)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=child_env,
                        cwd=self.workdir,
                        start_new_session=True,
                    )
                self.port = ports[0]
                # If this interpreter exits without stop(), do not leave ROAPI running.
                weakref.finalize(self.proc, _kill, self.proc)
                try:
                    self._wait_ready()
                    return
                except RoapiError as exc:
                    last = exc
                    self._terminate()
                    if "address" not in str(exc).lower():
                        break
            raise last or RoapiError("ROAPI did not start.")

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 5 s)."""
        with self._lock:
            self._terminate()

    def restart(self) -> None:
        """Stop (if needed) and start again on new ports."""
        with self._lock:
            self._terminate()
            self.restarts += 1
        self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=1, trust_env=False) as client:  # loopback: never a proxy
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    raise RoapiError(f"ROAPI exited while starting:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                time.sleep(0.05)
        raise RoapiError(
            f"ROAPI did not answer within {self.startup_timeout:g}s:\n{self.log_tail()}"
        )

    def __enter__(self) -> RoapiProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
