"""Export a catalog as a ROAPI configuration (``roapi -c roapi.yaml``).

Every Delta table and every Parquet table ROAPI can read becomes a ROAPI table named
``db_table`` (or ``table.extra["roapi_name"]``). What ROAPI cannot serve is skipped with a
reason: function tables (no files) and directory-partitioned Parquet whose partition values
live only in folder names. With ``materialize=DIR`` those are written to Parquet snapshots in
``DIR`` and the snapshots are served instead. Each table says what ROAPI needs through
:meth:`~neuralake.tables.base.Table.serving` (format, files, partitions, columns in the files).

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

import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml

from neuralake.errors import NeuralakeError
from neuralake.storage import (
    StorageConfig,
    get_s3_storage_options,
    has_embedded_credentials,
    is_remote,
)

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.tables.base import Table
    from neuralake.tables.facts import ServingInfo

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

_ROAPI_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # fullmatch: "$" allows a final "\n"
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
            # ROAPI refuses table reloads in its read-only mode (its write paths then open too).
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


class _ConfigDumper(yaml.SafeDumper):
    """PyYAML's safe dumper (plain data only, no Python tags) with every string value
    double-quoted: ROAPI's YAML 1.2 reader and PyYAML's YAML 1.1 resolver disagree on some
    plain scalars (``0o17``, ``on``), and a quoted string means the same to both."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')

    def represent_config_dict(self, data: Mapping[Any, Any]) -> yaml.MappingNode:
        node = self.represent_mapping("tag:yaml.org,2002:map", data)
        for key, _ in node.value:
            key.style = None  # keys plain where YAML allows it (the emitter quotes if needed)
        return node


_ConfigDumper.add_representer(str, _ConfigDumper.represent_str)
_ConfigDumper.add_representer(dict, _ConfigDumper.represent_config_dict)


def to_yaml(value: Any) -> str:
    """Block-style YAML for plain data (dicts, lists, strings, numbers, booleans, ``None``).

    Keys keep their insertion order; string values are double-quoted; lines are never wrapped.
    """
    return yaml.dump(
        value,
        Dumper=_ConfigDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )


def roapi_name(database: str, table: Table) -> str:
    """The ROAPI table name: ``extra["roapi_name"]`` or ``db_table``."""
    name = str(table.extra.get("roapi_name") or f"{database}_{table.name}")
    if not _ROAPI_NAME.fullmatch(name):
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
            so the config sets ``disable_read_only``: never expose such a ROAPI to others).
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
    configs: dict[str, StorageConfig] = {}
    for table in catalog.tables(include_deprecated=include_deprecated):
        qualified = table.qualified_name
        name = roapi_name(table.database or "", table)
        if name in names:
            raise RoapiExportError(
                f"Tables {names[name]!r} and {qualified!r} both map to ROAPI name {name!r}; "
                "set extra['roapi_name'] on one of them."
            )
        names[name] = qualified
        cfg = table.resolve_storage()
        try:
            entry, reason = _plan_table(name, table, cfg, materialize, memory_threshold_bytes)
        except NeuralakeError as exc:
            entry, reason = None, f"cannot read its storage metadata: {cfg.redact(str(exc))}"
        if entry is None:
            skipped.append(SkippedTable(qualified, reason))
            continue
        tables[name] = entry
        configs[name] = cfg
    env: tuple[str, ...] = ()
    remote = [n for n in sorted(tables) if is_remote(tables[n].uri)]
    if remote:
        first = _public_settings(configs[remote[0]])
        for n in remote:
            t = tables[n]
            if _public_settings(configs[n]) != first:
                del tables[n]
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


def roapi_environment(catalog: Catalog, plan: RoapiExport | None = None) -> dict[str, str]:
    """The ``AWS_*`` values for ROAPI's process environment, from the tables' storage.

    Args:
        catalog: The exported catalog.
        plan: Its :func:`plan_roapi` result: the settings of the plan's first S3 table are used
            (the plan keeps only S3 tables that share them). Without it, the first table whose
            location is remote.

    Contains secrets: pass it only as a child process's ``env``; never write or log it.
    """
    if plan is not None:
        remote = [catalog.get_table(t.qualified_name) for t in plan.tables if is_remote(t.uri)]
    else:
        remote = [t for t in catalog.tables() if is_remote(t.location or "")]
    if not remote:
        return {}
    opts = get_s3_storage_options(remote[0].resolve_storage())
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
    name: str,
    table: Table,
    cfg: StorageConfig,
    materialize: str | Path | None,
    threshold: int,
) -> tuple[RoapiTable | None, str]:
    """The table's entry (its own files, or a snapshot), or ``None`` and why it is skipped."""
    info = table.serving(cfg)
    if info is not None and has_embedded_credentials(info.uri):
        return None, (
            "its location embeds credentials (user-info or a signed query string), which the "
            "config would expose; use a plain s3:// location and pass credentials through "
            "StorageConfig"
        )
    if info is None:
        why = f"{table.table_type} tables have no data files ROAPI can read"
    elif info.format == "delta":
        # ROAPI 0.12's in-memory Delta loader fails on partitioned tables ("Mismatch between
        # schema and batches"), so those are always read from storage.
        memory = not info.partitions and info.size_bytes <= threshold
        uri = _roapi_uri(info.uri, directory=False)
        return RoapiTable(name, table.qualified_name, uri, "delta", memory), ""
    else:
        served = _plan_parquet(name, table.qualified_name, info, threshold)
        if isinstance(served, RoapiTable):
            return served, ""
        why = served
    return _materialize(name, table, materialize, threshold, why)


def _plan_parquet(name: str, qualified: str, info: ServingInfo, threshold: int) -> RoapiTable | str:
    """How ROAPI reads a Parquet table's files, or why it cannot."""
    uri = _roapi_uri(info.uri, directory=True)
    small = info.size_bytes <= threshold
    parts = [n for n, _ in info.partitions]
    in_files = [p for p in parts if p in (info.file_columns or ())]
    if len(in_files) == len(parts):
        # Unpartitioned, or partition values also stored in the files: ROAPI lists folders
        # recursively and reads the columns from the files.
        return RoapiTable(name, qualified, uri, "parquet", small)
    if info.partitioning_scheme == "directory":
        return (
            "directory-partitioned Parquet keeps partition values only in folder names, "
            "which ROAPI cannot map to columns"
        )
    if in_files:
        return f"only some partition columns ({', '.join(in_files)}) are stored in files"
    columns = []
    for column, dtype in info.partitions:
        arrow = _arrow_type(dtype)
        if arrow is None:
            return (
                f"partition column {column!r} has type {dtype}, which ROAPI cannot parse "
                "from folder names"
            )
        columns.append((column, arrow))
    if _encoded_partition_values(info.files):
        return (
            "partition folder names are percent-encoded (e.g. Brand%2313), which ROAPI "
            "returns undecoded"
        )
    # ROAPI adds hive partition columns only when reading from storage, not in memory.
    return RoapiTable(name, qualified, uri, "parquet", False, tuple(columns))


def _materialize(
    name: str,
    table: Table,
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
    table.scan().collect().write_parquet(tmp)
    tmp.replace(target)
    logger.info("materialized %s to %s", table.qualified_name, target)
    memory = target.stat().st_size <= threshold
    entry = RoapiTable(
        name, table.qualified_name, str(target), "parquet", memory, materialized=True
    )
    return entry, ""


def _roapi_uri(uri: str, *, directory: bool) -> str:
    """Absolute local paths; a trailing ``/`` marks a Parquet folder (ROAPI lists it)."""
    base = uri.rstrip("/") if is_remote(uri) else str(Path(uri.removeprefix("file://")).absolute())
    if directory and not base.endswith(".parquet"):
        return base + "/"
    return base


def _encoded_partition_values(files: tuple[tuple[str, int], ...]) -> bool:
    """True if a ``col=value`` folder name is percent-encoded (ROAPI would not decode it)."""
    for path, _ in files:
        for segment in path.split("/")[:-1]:
            if "=" in segment and "%" in segment.split("=", 1)[1]:
                return True
    return False


def _arrow_type(dtype: Any) -> str | None:
    base = dtype if isinstance(dtype, type) else type(dtype)
    return _ARROW_TYPES.get(base)
