"""Export a catalog as a ROAPI configuration (``roapi -c roapi.yaml``).

Every Delta table and every Parquet table ROAPI can read becomes a ROAPI table named
``db_table`` (or ``table.extra["roapi_name"]``). What ROAPI cannot serve is skipped with a
reason: function tables (no files) and directory-partitioned Parquet whose partition values
live only in folder names. With ``materialize=DIR`` those are written to Parquet snapshots in
``DIR`` and the snapshots are served instead.

No credentials are written. Object storage settings reach ROAPI through the standard ``AWS_*``
environment variables of its process; the file lists their *names* only (see
:func:`roapi_environment` for the values, which are never written to disk).

The output is deterministic: tables sorted by ROAPI name, keys in a fixed order.

Example:
    >>> from neuralake.export.roapi import export_roapi
    >>> config = export_roapi(catalog, "roapi.yaml")  # doctest: +SKIP
    >>> [t["name"] for t in config["tables"]]  # doctest: +SKIP
    ['tpch_lineitem', 'tpch_orders', 'tpch_part']
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.errors import NeuralakeError
from neuralake.storage import (
    StorageConfig,
    get_s3_storage_options,
    is_remote,
    list_files,
    storage_options,
)

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.tables.base import Table

logger = logging.getLogger("neuralake")

#: Tables larger than this are served from storage (``use_memory_table: false``).
DEFAULT_MEMORY_THRESHOLD_BYTES = 64 * 1024 * 1024

#: ``AWS_*`` variables ROAPI (object_store / delta-rs) reads, and what each one holds.
S3_ENVIRONMENT = (
    ("AWS_ENDPOINT_URL", "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (MinIO)"),
    ("AWS_REGION", "region (us-east-1 for MinIO)"),
    ("AWS_ACCESS_KEY_ID", "access key (secret: set it in ROAPI's environment only)"),
    ("AWS_SECRET_ACCESS_KEY", "secret key (secret: set it in ROAPI's environment only)"),
    ("AWS_SESSION_TOKEN", "optional session token (secret)"),
    ("AWS_ALLOW_HTTP", "true for plain-HTTP endpoints"),
)

_ROAPI_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ARROW_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "Utf8",
    pl.Int8: "Int8",
    pl.Int16: "Int16",
    pl.Int32: "Int32",
    pl.Int64: "Int64",
    pl.UInt8: "UInt8",
    pl.UInt16: "UInt16",
    pl.UInt32: "UInt32",
    pl.UInt64: "UInt64",
    pl.Float32: "Float32",
    pl.Float64: "Float64",
    pl.Boolean: "Boolean",
    pl.Date: "Date32",
}


class RoapiExportError(NeuralakeError, ValueError):
    """The catalog cannot be exported as one ROAPI config (e.g. two tables share a name)."""


class RoapiSkipWarning(UserWarning):
    """A table was left out of the ROAPI config; the message says why and how to include it."""


@dataclass(frozen=True)
class RoapiTable:
    """One table of the ROAPI config.

    Attributes:
        name: ROAPI table name (``db_table`` unless ``extra["roapi_name"]`` overrides it).
        qualified_name: The catalog's ``db.table``.
        uri: What ROAPI reads: a local path, ``s3://`` URI, or a materialized snapshot file.
        format: ``"delta"`` or ``"parquet"``.
        use_memory_table: Load into memory at startup (small tables) or query storage directly.
        partition_columns: Hive partition columns ROAPI adds from folder names, with Arrow types.
        materialized: True when ``uri`` is a Parquet snapshot written by the export.
    """

    name: str
    qualified_name: str
    uri: str
    format: str
    use_memory_table: bool
    partition_columns: tuple[tuple[str, str], ...] = ()
    materialized: bool = False

    def to_dict(self, reload_interval: float | None = None) -> dict[str, Any]:
        """The table's entry in ROAPI's ``tables:`` list."""
        entry: dict[str, Any] = {"name": self.name, "uri": self.uri}
        if self.partition_columns:
            entry["partition_columns"] = [
                {"name": n, "data_type": t} for n, t in self.partition_columns
            ]
        if reload_interval:
            secs = int(reload_interval)
            entry["reload_interval"] = {
                "secs": secs,
                "nanos": round((reload_interval - secs) * 1e9),
            }
        entry["option"] = {"format": self.format, "use_memory_table": self.use_memory_table}
        return entry


@dataclass(frozen=True)
class SkippedTable:
    """A table left out of the ROAPI config, and why."""

    qualified_name: str
    reason: str


@dataclass(frozen=True)
class RoapiExport:
    """The planned ROAPI config: served tables, skipped tables and required environment.

    Attributes:
        tables: Tables ROAPI serves, sorted by ROAPI name.
        skipped: Tables left out, with the reason.
        environment: Names of the environment variables ROAPI needs (never their values).
        reload_interval: Seconds between table reloads, or ``None``.
    """

    tables: tuple[RoapiTable, ...]
    skipped: tuple[SkippedTable, ...] = ()
    environment: tuple[str, ...] = ()
    reload_interval: float | None = None
    names: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ROAPI config as a dict (what :meth:`to_yaml` writes)."""
        config: dict[str, Any] = {}
        if self.reload_interval:
            # ROAPI refuses table reloads in its read-only mode; serve it behind the guard.
            config["disable_read_only"] = True
        config["tables"] = [t.to_dict(self.reload_interval) for t in self.tables]
        return config

    def to_yaml(self) -> str:
        """The config as YAML, with a header naming the environment variables it needs."""
        lines = ["# ROAPI config generated by `neuralake roapi`; do not edit by hand."]
        lines.append("# Read-only use only behind `neuralake api serve`: ROAPI's own /api/sql")
        lines.append("# also runs INSERT and COPY ... TO, which write files.")
        if self.environment:
            lines.append("# Object storage settings are read from these environment variables")
            lines.append("# (set them in ROAPI's environment; they are never written here):")
            lines += [f"#   {name}" for name in self.environment]
        for s in self.skipped:
            lines.append(f"# skipped {s.qualified_name}: {s.reason}")
        return "\n".join(lines) + "\n" + to_yaml(self.to_dict())


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists, strings, numbers and booleans (strings JSON-quoted).

    JSON string escapes are valid YAML double-quoted scalars, so every value round-trips.
    """
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(out)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = []
        for item in value:
            body = to_yaml(item, indent + 2) if isinstance(item, dict | list) and item else None
            if body is None:
                out.append(f"{pad}- {_scalar(item)}\n")
            else:
                out.append(f"{pad}- {body.lstrip()}")
        return "".join(out)
    return pad + _scalar(value) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(str(value), ensure_ascii=False)


def roapi_name(database: str, table: Table) -> str:
    """The ROAPI table name: ``extra["roapi_name"]`` or ``db_table``."""
    name = str(table.extra.get("roapi_name") or f"{database}_{table.name}")
    if not _ROAPI_NAME.match(name):
        raise RoapiExportError(
            f"ROAPI name {name!r} of table '{database}.{table.name}' must be letters, digits "
            "and '_' (set extra['roapi_name'] to a valid name)."
        )
    return name


def plan_roapi(
    catalog: Catalog,
    *,
    materialize: str | Path | None = None,
    reload_interval: float | None = None,
    memory_threshold_bytes: int = DEFAULT_MEMORY_THRESHOLD_BYTES,
    include_deprecated: bool = False,
) -> RoapiExport:
    """Decide how ROAPI serves each table of ``catalog`` (writes snapshots if ``materialize``).

    Args:
        catalog: The catalog to export.
        materialize: Folder for Parquet snapshots of tables ROAPI cannot read (function
            tables, directory-partitioned Parquet); ``None`` skips those tables.
        reload_interval: Seconds between ROAPI table reloads (needs ROAPI's non-read-only mode,
            so the config sets ``disable_read_only``; serve it behind the guard).
        memory_threshold_bytes: Tables at most this big are loaded into ROAPI's memory.
        include_deprecated: Also export deprecated tables.

    Returns:
        A :class:`RoapiExport`.

    Raises:
        RoapiExportError: Two tables map to the same ROAPI name, or a name is invalid.
    """
    if reload_interval is not None and reload_interval <= 0:
        raise RoapiExportError(f"reload_interval must be positive, got {reload_interval!r}.")
    tables: dict[str, RoapiTable] = {}
    skipped: list[SkippedTable] = []
    names: dict[str, str] = {}
    remote_configs: list[StorageConfig] = []
    for qualified in catalog.list_tables(include_deprecated=include_deprecated):
        table = catalog.get_table(qualified)
        db_name = table.database or ""
        name = roapi_name(db_name, table)
        if name in names:
            raise RoapiExportError(
                f"Tables {names[name]!r} and {qualified!r} both map to ROAPI name {name!r}; "
                "set extra['roapi_name'] on one of them."
            )
        names[name] = qualified
        cfg = table.resolve_storage()
        try:
            entry, reason = _plan_table(
                catalog, qualified, name, table, cfg, materialize, memory_threshold_bytes
            )
        except NeuralakeError as exc:
            entry, reason = None, f"cannot read its storage metadata: {cfg.redact(str(exc))}"
        if entry is None:
            skipped.append(SkippedTable(qualified, reason))
            continue
        if is_remote(entry.uri):
            remote_configs.append(cfg)
        tables[name] = entry
    env: tuple[str, ...] = ()
    if remote_configs:
        first = _public_settings(remote_configs[0])
        for q, t in list(tables.items()):
            if (
                is_remote(t.uri)
                and _public_settings(catalog.get_table(t.qualified_name).resolve_storage()) != first
            ):
                del tables[q]
                skipped.append(
                    SkippedTable(
                        t.qualified_name,
                        "its storage endpoint/region differs from the other S3 tables; one ROAPI "
                        "process reads one set of AWS_* settings",
                    )
                )
        env = tuple(name for name, _ in S3_ENVIRONMENT)
    for s in skipped:
        warnings.warn(
            f"ROAPI export skips {s.qualified_name}: {s.reason}", RoapiSkipWarning, stacklevel=2
        )
    return RoapiExport(
        tables=tuple(tables[n] for n in sorted(tables)),
        skipped=tuple(sorted(skipped, key=lambda s: s.qualified_name)),
        environment=env,
        reload_interval=reload_interval,
        names={n: names[n] for n in sorted(tables)},
    )


def export_roapi(
    catalog: Catalog,
    path: str | Path | None = None,
    *,
    materialize: str | Path | None = None,
    reload_interval: float | None = None,
    memory_threshold_bytes: int = DEFAULT_MEMORY_THRESHOLD_BYTES,
    include_deprecated: bool = False,
) -> dict[str, Any]:
    """Write (if ``path``) and return the ROAPI config of ``catalog``.

    See :func:`plan_roapi` for the arguments. Skipped tables raise a :class:`RoapiSkipWarning`
    and are listed as comments at the top of the file.

    Example:
        >>> cfg = export_roapi(catalog, "roapi.yaml", materialize="snapshots")  # doctest: +SKIP
        >>> cfg["tables"][0]["option"]  # doctest: +SKIP
        {'format': 'delta', 'use_memory_table': False}
    """
    plan = plan_roapi(
        catalog,
        materialize=materialize,
        reload_interval=reload_interval,
        memory_threshold_bytes=memory_threshold_bytes,
        include_deprecated=include_deprecated,
    )
    if path is not None:
        Path(path).write_text(plan.to_yaml(), encoding="utf-8")
    return plan.to_dict()


def roapi_environment(catalog: Catalog) -> dict[str, str]:
    """The ``AWS_*`` values for ROAPI's process environment, from the catalog's storage.

    Contains secrets: pass it only as a child process's ``env``; never write or log it.
    """
    remote = [
        t.resolve_storage() for t in catalog.tables() if is_remote(getattr(t, "uri", "") or "")
    ]
    if not remote:
        return {}
    opts = get_s3_storage_options(remote[0])
    env = {
        "AWS_ENDPOINT_URL": opts.get("aws_endpoint_url"),
        "AWS_REGION": opts.get("aws_region"),
        "AWS_DEFAULT_REGION": opts.get("aws_region"),
        "AWS_ACCESS_KEY_ID": opts.get("aws_access_key_id"),
        "AWS_SECRET_ACCESS_KEY": opts.get("aws_secret_access_key"),
        "AWS_SESSION_TOKEN": opts.get("aws_session_token"),
        "AWS_PROFILE": opts.get("aws_profile"),
        "AWS_ALLOW_HTTP": opts.get("aws_allow_http"),
    }
    return {k: v for k, v in env.items() if v}


def _public_settings(cfg: StorageConfig) -> tuple[Any, ...]:
    return (cfg.endpoint_url, cfg.region, cfg.profile, cfg.allow_http)


def _plan_table(
    catalog: Catalog,
    qualified: str,
    name: str,
    table: Table,
    cfg: StorageConfig,
    materialize: str | Path | None,
    threshold: int,
) -> tuple[RoapiTable | None, str]:
    from neuralake.tables.delta import NeuralakeDeltaTable
    from neuralake.tables.parquet import ParquetTable

    if isinstance(table, NeuralakeDeltaTable):
        uri = _roapi_uri(table.uri, directory=False)
        size = _size(table.uri, cfg)
        # ROAPI 0.12's in-memory Delta loader fails on partitioned tables ("Mismatch between
        # schema and batches"), so those are always read from storage.
        memory = not table.partition_by and size is not None and size <= threshold
        return RoapiTable(name, qualified, uri, "delta", memory), ""
    if isinstance(table, ParquetTable):
        uri = _roapi_uri(table.uri, directory=True)
        size = _size(table.uri, cfg)
        small = size is not None and size <= threshold
        if not table.partitioning:
            return RoapiTable(name, qualified, uri, "parquet", small), ""
        stored = _file_columns(table, cfg)
        parts = [p.name for p in table.partitioning]
        in_files = [p for p in parts if p in stored]
        if len(in_files) == len(parts):
            # Partition values are also stored in the files: ROAPI lists folders recursively.
            return RoapiTable(name, qualified, uri, "parquet", small), ""
        if table.scheme == "directory" or in_files:
            why = (
                "directory-partitioned Parquet keeps partition values only in folder names, "
                "which ROAPI cannot map to columns"
                if table.scheme == "directory"
                else f"only some partition columns ({', '.join(in_files)}) are stored in files"
            )
            return _materialize(catalog, qualified, name, materialize, threshold, why)
        columns = []
        for p in table.partitioning:
            arrow = _arrow_type(p.dtype)
            if arrow is None:
                return _materialize(
                    catalog,
                    qualified,
                    name,
                    materialize,
                    threshold,
                    f"partition column {p.name!r} has type {p.dtype}, which ROAPI cannot parse "
                    "from folder names",
                )
            columns.append((p.name, arrow))
        if _encoded_partition_values(table.uri, cfg):
            return _materialize(
                catalog,
                qualified,
                name,
                materialize,
                threshold,
                "partition folder names are percent-encoded (e.g. Brand%2313), which ROAPI "
                "returns undecoded",
            )
        # ROAPI adds hive partition columns only when reading from storage, not in memory.
        return RoapiTable(name, qualified, uri, "parquet", False, tuple(columns)), ""
    return _materialize(
        catalog,
        qualified,
        name,
        materialize,
        threshold,
        f"{table.table_type} tables are computed in Python and have no files ROAPI can read",
    )


def _materialize(
    catalog: Catalog,
    qualified: str,
    name: str,
    folder: str | Path | None,
    threshold: int,
    why: str,
) -> tuple[RoapiTable | None, str]:
    if folder is None:
        return None, f"{why}; pass --materialize DIR to serve a Parquet snapshot"
    out = Path(folder).absolute()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.parquet"
    tmp = target.with_suffix(".parquet.tmp")
    catalog.table(qualified).collect().write_parquet(tmp)
    tmp.replace(target)
    logger.info("materialized %s to %s", qualified, target)
    memory = target.stat().st_size <= threshold
    return RoapiTable(name, qualified, str(target), "parquet", memory, materialized=True), ""


def _roapi_uri(uri: str, *, directory: bool) -> str:
    """Absolute local paths; a trailing ``/`` marks a Parquet folder (ROAPI lists it)."""
    base = uri.rstrip("/") if is_remote(uri) else str(Path(uri.removeprefix("file://")).absolute())
    if directory and not base.endswith(".parquet"):
        return base + "/"
    return base


def _size(uri: str, cfg: StorageConfig) -> int | None:
    try:
        return sum(size for _, size in list_files(uri, cfg))
    except NeuralakeError as exc:
        logger.warning("cannot size %s for ROAPI: %s", uri, cfg.redact(str(exc)))
        return None


def _encoded_partition_values(uri: str, cfg: StorageConfig) -> bool:
    """True if a ``col=value`` folder name is percent-encoded (ROAPI would not decode it)."""
    for path, _ in list_files(uri, cfg):
        for segment in path.split("/")[:-1]:
            if "=" in segment and "%" in segment.split("=", 1)[1]:
                return True
    return False


def _file_columns(table: Any, cfg: StorageConfig) -> set[str]:
    """Column names stored in the Parquet files themselves (reads one footer)."""
    lf = pl.scan_parquet(
        table.uri.rstrip("/") + "/",
        hive_partitioning=False,
        storage_options=storage_options(table.uri, cfg),
    )
    try:
        return set(lf.collect_schema().names())
    except Exception as exc:
        raise RoapiExportError(
            cfg.redact(f"Cannot read the Parquet schema of {table.uri}: {exc}")
        ) from exc


def _arrow_type(dtype: Any) -> str | None:
    base = dtype if isinstance(dtype, type) else type(dtype)
    return _ARROW_TYPES.get(base)
