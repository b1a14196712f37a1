"""The JSON commits of a Delta log, read directly: for what delta-rs cannot say (a protocol it
refuses to open, the metaData of each commit) or says wrongly (commit times of an older
snapshot). One reader for every such use; storage is reached only through ``storage.py``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from neuralake.storage import arrow_filesystem, list_files

if TYPE_CHECKING:
    from neuralake.tables.delta.target import DeltaTarget

_COMMIT = re.compile(r"\d{20}\.json")


class CommitLog:
    """The ``_delta_log`` folder of one table (one filesystem handle for all reads)."""

    def __init__(self, target: DeltaTarget) -> None:
        self.target = target
        self.uri = f"{target.uri.rstrip('/')}/_delta_log"
        self.fs, inner = arrow_filesystem(self.uri, target.cfg)
        self.inner = inner.rstrip("/")

    def versions(self) -> list[int]:
        """Versions that have a JSON commit, oldest first (one listing)."""
        return sorted(
            int(rel[:20]) for rel, _ in list_files(self.uri, self.target.cfg)
            if _COMMIT.fullmatch(rel)
        )  # fmt: skip

    def actions(self, version: int) -> list[dict[str, Any]]:
        """The actions of one commit, in order.

        Raises:
            OSError: The commit file cannot be read (e.g. cleaned up after a checkpoint).
            ValueError: A line is not JSON.
        """
        with self.fs.open_input_stream(f"{self.inner}/{version:020d}.json") as stream:
            lines = stream.read().decode().splitlines()
        return [json.loads(line) for line in lines if line.strip()]
