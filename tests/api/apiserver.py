"""``neuralake api serve`` in a subprocess, as a user starts it, for the API tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServer:
    """``neuralake api serve`` in a subprocess, with an httpx client on its address."""

    def __init__(self, ref: str, *args: str, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:  # fmt: skip
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        path = os.pathsep.join([str(HERE), str(REPO / "src"), str(REPO)])
        self.env = {**os.environ, "PYTHONPATH": path, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "neuralake", "-c", ref, "api", "serve",
             "--port", str(self.port), *args],
            cwd=cwd or REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.client = httpx.Client(base_url=self.base, trust_env=False, timeout=120)

    def wait(self, timeout: float = 90.0) -> ApiServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited {self.proc.returncode}: {self.output()}")
            try:
                if self.client.get("/health").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the API did not start: {self.output()}")

    def children(self) -> list[int]:
        """Pids of the server's child processes (workers and multiprocessing's helper)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return sorted(int(p) for p in children.read_text().split())
        except OSError:
            return []

    def workers(self) -> list[int]:
        """Pids of the server's query workers."""
        found = []
        for pid in self.children():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(pid)
        return found

    def output(self) -> str:
        if self.proc.poll() is None or self.proc.stdout is None:
            return ""
        return self.proc.stdout.read().decode(errors="replace")

    def stop(self) -> str:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.output()
