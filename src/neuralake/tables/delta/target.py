"""Where one Delta operation acts: the plain values every helper below the table takes.

The table builds a :class:`DeltaTarget` once per operation, from storage resolved once (call >
table > catalog > environment); helpers never see the table object.

S3 and S3-compatible stores:
    delta-rs 1.x commits to S3 with conditional PUT (``If-None-Match: *``), which AWS S3, MinIO
    (recent releases), Cloudflare R2 and moto support (check yours); nothing needs to be
    configured, and neither a DynamoDB lock nor ``aws_conditional_put`` is required. Point a
    :class:`~neuralake.storage.StorageConfig` at the store::

        StorageConfig(endpoint_url="http://127.0.0.1:9000", access_key_id="minio",
                      secret_access_key="minio123", allow_http=True)

    For a store without conditional PUT, concurrent writers can silently overwrite each other's
    commits. The unsafe-rename mode that accepts this (``AWS_S3_ALLOW_UNSAFE_RENAME``) is refused
    unless the table opts in with ``NeuralakeDeltaTable(..., allow_unsafe_rename=True)`` (use it
    only with a single writer); the environment variable alone is rejected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralake.errors import StorageError
from neuralake.storage import StorageConfig, storage_options

if TYPE_CHECKING:
    import polars as pl

_TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class DeltaTarget:
    """A Delta table location with its resolved storage and declared layout.

    Attributes:
        uri: Table root (local path or ``s3://``).
        label: The table's qualified name, for messages.
        name: The bare table name, recorded in the log when the table is created.
        cfg: The resolved storage settings (also used to redact messages).
        partition_by: Declared partition columns.
        declared_schema: Declared schema (``None``: none declared).
        unique_columns: Declared key columns.
        allow_unsafe_rename: The table opted in to unsafe renames on S3.
        summary: First line of the description, recorded in the log on create.
    """

    uri: str
    label: str
    name: str
    cfg: StorageConfig
    partition_by: tuple[str, ...] = ()
    declared_schema: pl.Schema | None = None
    unique_columns: tuple[str, ...] = ()
    allow_unsafe_rename: bool = False
    summary: str | None = None

    def read_options(self) -> dict[str, str] | None:
        """delta-rs options for reading (``None`` for local paths)."""
        return storage_options(self.uri, self.cfg)

    def write_options(self) -> dict[str, str] | None:
        """delta-rs options for writing: the read options plus the unsafe-rename decision.

        Raises:
            StorageError: ``AWS_S3_ALLOW_UNSAFE_RENAME`` is set but the table did not opt in.
        """
        opts = self.read_options()
        if opts is None:
            return None
        env = os.environ.get("AWS_S3_ALLOW_UNSAFE_RENAME", "").strip().lower()
        if env in _TRUE and not self.allow_unsafe_rename:
            raise StorageError(
                f"Table {self.label!r}: AWS_S3_ALLOW_UNSAFE_RENAME is set, but unsafe renames can "
                "lose commits when several writers run at once. S3, MinIO and R2 support "
                "conditional PUT, which needs no setting; unset the variable, or opt in for a "
                "single-writer store with `NeuralakeDeltaTable(..., allow_unsafe_rename=True)`."
            )
        opts["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true" if self.allow_unsafe_rename else "false"
        return opts

    def redact(self, text: str) -> str:
        return self.cfg.redact(text)
