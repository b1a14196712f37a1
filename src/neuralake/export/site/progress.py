"""A small stderr progress bar, shown only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``Progress(total, enabled)``; call :meth:`advance` per item and :meth:`close` at the end."""

    def __init__(self, total: int, label: str, enabled: bool | None = None,
                 stream: TextIO | None = None) -> None:  # fmt: skip
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 0)
        self.label = label
        self.done = 0
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self._draw()

    def stage(self, label: str) -> None:
        """Show a step without a count (e.g. indexing)."""
        if self.enabled:
            self.stream.write(f"\r\x1b[2K{label}…")
            self.stream.flush()

    def _draw(self) -> None:
        width = 30
        frac = self.done / self.total if self.total else 1.0
        filled = int(width * frac)
        bar = "█" * filled + "░" * (width - filled)
        self.stream.write(f"\r\x1b[2K{self.label} {bar} {self.done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
