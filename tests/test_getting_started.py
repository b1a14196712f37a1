"""docs/getting-started.md, run as a reader runs it: every block in order, in an empty folder.

A ``bash`` block runs in ``bash -e`` (its final working directory carries over to the next
block, as in one terminal); a ``python`` or ``toml`` block whose first line is ``# path`` is the
file the guide asks to save; ``<!-- skip -->`` before a block leaves it out (the install), and
``<!-- serve -->`` marks the blocking server, started on a free port and stopped by PID.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "getting-started.md"
BLOCK = re.compile(r"(?:<!-- (?P<mark>\w+) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)^```", re.M | re.S)
SAVED_AS = re.compile(r"# (?P<path>[\w./-]+\.(?:py|toml))\n")


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    mark: str | None


def blocks() -> list[Block]:
    text = GUIDE.read_text(encoding="utf-8")
    found = [Block(m["lang"], m["body"], m["mark"]) for m in BLOCK.finditer(text)]
    return [b for b in found if b.lang in {"bash", "python", "toml"} and b.mark != "skip"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body: bytes = answer.read()
                return body.decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_guide_has_every_step() -> None:
    text = " ".join(b.body for b in blocks())
    for step in ("write_delta", "NeuralakeDeltaTable", "ParquetTable", "@table",
                 "neuralake tables", "neuralake describe", "neuralake query",
                 "neuralake site build", "neuralake site serve"):  # fmt: skip
        assert step in text, step
    assert "/" + "work" not in text  # no absolute paths from this machine


def test_the_guide_runs_as_printed(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)  # the reader's project imports only what it installs
    cwd, state = tmp_path, tmp_path / ".pwd"
    for block in blocks():
        if block.lang != "bash":
            saved = SAVED_AS.match(block.body)
            assert saved, f"a {block.lang} block must start with '# path/to/file':\n{block.body}"
            (cwd / saved["path"]).write_text(block.body, encoding="utf-8")
            continue
        if block.mark == "serve":
            serve_and_fetch(block.body, cwd, env)
            continue
        done = subprocess.run(
            ["bash", "-e", "-c", f'{block.body}\npwd > "{state}"'],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"{block.body}\n{done.stdout}\n{done.stderr}"
        assert "error:" not in done.stderr, done.stderr
        cwd = Path(state.read_text().strip())
    assert (cwd / "site" / "index.html").is_file()


def serve_and_fetch(command: str, cwd: Path, env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*command.split(), "--port", str(port)],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        page = fetch(f"http://127.0.0.1:{port}/")
        assert "mycat" in page  # the catalog's own index page, not a folder listing
    finally:
        proc.terminate()
        proc.wait(timeout=30)
