"""Search index: Pagefind over the table pages (only table pages carry ``data-pagefind-body``).

While pages are rendered, :class:`StreamingIndexer` feeds each table's search document to
``pagefind --service`` (the same JSON-over-stdio protocol Pagefind's own Python wrapper uses),
so indexing runs on another core during rendering instead of re-reading every file afterwards.
If the service cannot be used, :func:`build_index` runs the plain ``pagefind --site`` command on
the written folder instead. Either way :func:`~neuralake.export.site.stable.normalize_bundle`
then makes the bundle reproducible.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from neuralake.export.site.stable import normalize_bundle


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed."""


def pagefind_binary() -> Path:
    """The Pagefind executable shipped by the ``pagefind[extended]`` wheel."""
    try:
        from pagefind_bin_extended import get_executable

        return Path(get_executable())
    except (ImportError, FileNotFoundError):
        pass
    try:
        from pagefind_bin import get_executable as plain

        return Path(plain())
    except (ImportError, FileNotFoundError) as exc:
        raise SearchIndexError(
            "Pagefind is not installed; install it with: pip install 'pagefind[extended]'"
        ) from exc


def build_index(site: Path) -> None:
    """Index the written ``site`` into ``site/pagefind`` with the Pagefind command line."""
    cmd = [str(pagefind_binary()), "--site", str(site), "--output-subdir", "pagefind",
           "--force-language", "en", "--silent"]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SearchIndexError(
            f"Pagefind failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    normalize_bundle(site / "pagefind")


def settle(bundle: Path, timeout: float = 60.0, interval: float = 0.05) -> None:
    """Wait until every file of ``bundle`` is written.

    Pagefind's service can answer ``WriteFiles`` while its last files are still being written
    in the background, and drops them if it exits first (seen as an empty file under load), so
    the service is kept running until no file is empty and no size changed between two looks.
    """
    deadline = time.monotonic() + timeout
    before: dict[Path, int] | None = None
    while True:
        sizes = {p: p.stat().st_size for p in bundle.rglob("*") if p.is_file()}
        if sizes and all(sizes.values()) and sizes == before:
            return
        if time.monotonic() > deadline:
            raise SearchIndexError(f"Pagefind did not finish writing {bundle} in {timeout:g} s.")
        before = sizes
        time.sleep(interval)


class StreamingIndexer:
    """Feed pages to a ``pagefind --service`` process as they are rendered.

    Writes never wait for replies (a reader thread drains them), so Pagefind indexes on another
    core while Python renders; a full pipe simply slows the writer down.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(pagefind_binary()), "--service"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._stdin: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
        self._id = 0
        self._waiting: dict[int, Any] = {}
        self.errors: list[str] = []
        self._cv = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="pagefind-reader", daemon=True)
        self._reader.start()
        reply = self._request({"type": "NewIndex", "config": {"force_language": "en"}})
        if reply.get("type") != "NewIndex":
            raise SearchIndexError(f"Pagefind service did not start an index: {reply}")
        self.index_id = reply["index_id"]

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        buf = b""
        while True:
            chunk = stdout.read1(1 << 16)  # type: ignore[attr-defined]
            if not chunk:
                break
            buf += chunk
            *messages, buf = buf.split(b",")
            for raw in messages:
                try:
                    message = json.loads(base64.b64decode(raw))
                    payload = message.get("payload") or {}
                    mid = message.get("message_id")
                except ValueError:
                    continue
                with self._cv:
                    if payload.get("type") == "Error":
                        self.errors.append(str(payload.get("message", payload))[:500])
                    if mid in self._waiting:
                        self._waiting[mid] = payload
                    self._cv.notify_all()
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def _send(self, payload: dict[str, Any], wait: bool) -> int:
        self._id += 1
        if wait:
            with self._cv:
                self._waiting[self._id] = None
        message = {"message_id": self._id, "payload": payload}
        self._stdin.write(base64.b64encode(json.dumps(message).encode("utf-8")) + b",")
        return self._id

    def _request(self, payload: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
        mid = self._send(payload, wait=True)
        self._stdin.flush()
        with self._cv:
            self._cv.wait_for(lambda: self._waiting[mid] is not None or self._closed, timeout)
            reply = self._waiting.pop(mid)
        if reply is None:
            raise SearchIndexError("Pagefind service stopped without answering.")
        if reply.get("type") == "Error":
            raise SearchIndexError(f"Pagefind service error: {reply.get('message')}")
        return dict(reply)

    def add(self, url: str, document: str) -> None:
        """Queue a table's search document (:func:`~.pages.search_document`); ``url`` is the
        page's path from the site root (``/cat/db/table.html``)."""
        self._send({"type": "AddFile", "index_id": self.index_id, "url": url,
                    "file_contents": document, "file_path": None}, wait=False)  # fmt: skip

    def finish(self, bundle: Path) -> None:
        """Write the bundle to ``bundle`` and stop the service."""
        try:
            self._request({"type": "WriteFiles", "index_id": self.index_id,
                           "output_path": str(bundle)})  # fmt: skip
            if self.errors:
                raise SearchIndexError("Pagefind could not index some pages: " + self.errors[0])
            settle(bundle)
        finally:
            self.close()
        normalize_bundle(bundle)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
