"""What a Parquet footer written by Spark (or Impala, Hive) says about its datetime columns.

Two things make such files read wrong if taken at face value:

* **INT96 timestamps**, which Polars decodes to nanoseconds, clamping values outside 1677-2262;
  they are read by pyarrow in microseconds instead.
* **Legacy calendar rebase**: Spark before 3.0 (dates) / 3.1 (INT96), and later versions with
  ``datetimeRebaseModeInWrite=LEGACY`` (footer keys ``org.apache.spark.legacyDateTime`` /
  ``legacyINT96``), stored values before 1582-10-15 in the hybrid Julian calendar. Read as
  proleptic Gregorian they are days off (``0001-01-01`` comes back as ``0000-12-30``), silently.
  They are rebased lazily, as Spark's own reader does in ``LEGACY`` mode; timestamps written in
  a session time zone other than UTC also shift by historical zone offsets before 1900, which
  cannot be undone from the file alone, so such columns are refused.

Footers of written files never change, so each is read once per process (bounded cache, keyed by
path only: no credentials are kept).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import polars as pl

from neuralake.errors import StorageError, UnsupportedFeatureError
from neuralake.storage import StorageConfig, arrow_filesystem

#: 1582-10-15, the first Gregorian day, in days since 1970-01-01: earlier stored values are
#: Julian in a legacy file; later ones are the same in both calendars.
_GREGORIAN_START = -141427
_DAY_US = 86_400_000_000
_UTC = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "+00:00"}


@dataclass(frozen=True)
class FooterFacts:
    """The datetime facts of one data file."""

    int96: tuple[str, ...] = ()
    #: Columns stored in the hybrid Julian calendar, rebased on read.
    julian: tuple[str, ...] = ()
    #: Legacy timestamp columns written in a non-UTC session zone (refused on read).
    zoned: tuple[str, ...] = ()
    time_zone: str | None = None


_CACHE: dict[str, FooterFacts] = {}
_LOCK = threading.Lock()
_MAX = 100_000


def footer_facts(uri: str, storage: StorageConfig, table: str) -> FooterFacts:
    """The :class:`FooterFacts` of one data file, from its footer (cached)."""
    with _LOCK:
        hit = _CACHE.get(uri)
    if hit is not None:
        return hit
    import pyarrow.parquet as pq

    fs, path = arrow_filesystem(uri, storage)
    try:
        meta = pq.ParquetFile(path, filesystem=fs).metadata
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) on junk
        raise StorageError(
            storage.redact(f"Table {table!r}: cannot read the footer of {uri}: {exc}")
        ) from exc
    facts = _facts(meta)
    with _LOCK:
        if len(_CACHE) >= _MAX:
            _CACHE.clear()
        _CACHE[uri] = facts
    return facts


def _facts(meta: object) -> FooterFacts:
    kv = {k.decode(): v.decode(errors="replace") for k, v in (meta.metadata or {}).items()}  # type: ignore[attr-defined]
    schema = meta.schema  # type: ignore[attr-defined]
    columns = [schema.column(i) for i in range(len(schema))]
    int96 = tuple(c.name for c in columns if c.physical_type == "INT96")
    version = kv.get("org.apache.spark.version")
    legacy_dates = version is not None and (
        _older(version, (3, 0)) or "org.apache.spark.legacyDateTime" in kv
    )
    legacy_int96 = version is not None and (
        _older(version, (3, 1)) or "org.apache.spark.legacyINT96" in kv
    )
    julian: list[str] = []
    zoned: list[str] = []
    zone = kv.get("org.apache.spark.timeZone")
    for c in columns:
        if "." in c.path:  # nested leaves: not rebased by position here
            continue
        logical = str(c.logical_type)
        is_date = logical.startswith("Date")
        is_ts = (c.name in int96 and legacy_int96) or (
            legacy_dates and logical.startswith("Timestamp")
        )
        if is_date and legacy_dates:
            julian.append(c.name)
        elif is_ts:
            (julian if zone is None or zone in _UTC else zoned).append(c.name)
    return FooterFacts(int96, tuple(julian), tuple(zoned), zone)


def _older(version: str, than: tuple[int, int]) -> bool:
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < than


def rebase(lf: pl.LazyFrame, facts: FooterFacts, table: str, uri: str) -> pl.LazyFrame:
    """``lf`` with its hybrid-calendar columns rebased to proleptic Gregorian (lazily).

    Raises:
        UnsupportedFeatureError: A legacy timestamp column was written in a non-UTC zone.
    """
    schema = lf.collect_schema()
    if zoned := [c for c in facts.zoned if c in schema]:
        raise UnsupportedFeatureError(
            f"Table {table!r}: column(s) {', '.join(zoned)} of {uri} hold timestamps in Spark's "
            f"legacy hybrid calendar, written in time zone {facts.time_zone!r}; they cannot be "
            "read exactly. Rewrite the data with Spark "
            "(spark.sql.parquet.datetimeRebaseModeInWrite=CORRECTED, "
            "spark.sql.parquet.int96RebaseModeInWrite=CORRECTED)."
        )
    exprs = []
    for name in facts.julian:
        dtype = schema.get(name)
        if dtype == pl.Date:
            days = pl.col(name).cast(pl.Int32)
            exprs.append(
                pl.when(days < _GREGORIAN_START)
                .then(_julian_to_gregorian(days))
                .otherwise(pl.col(name))
                .alias(name)
            )
        elif isinstance(dtype, pl.Datetime):
            us = pl.col(name).dt.epoch("us")
            days = us.floordiv(_DAY_US)
            shifted = (_julian_to_gregorian(days).cast(pl.Int64) - days) * _DAY_US + us
            exprs.append(
                pl.when(days < _GREGORIAN_START)
                .then(pl.from_epoch(shifted, time_unit="us"))
                .otherwise(pl.col(name).dt.replace_time_zone(None))
                .cast(pl.Datetime(dtype.time_unit or "us"))
                .dt.replace_time_zone(dtype.time_zone)
                .alias(name)
            )
    return lf.with_columns(exprs) if exprs else lf


def _julian_to_gregorian(days: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 in the Julian calendar -> the proleptic Gregorian date with the
    same year, month and day (a Julian-only 29 February becomes 1 March, as in Spark).

    Richards' algorithm for the Julian calendar, on the Julian day number.
    """
    f = days.cast(pl.Int64) + 2440588 + 1401
    e = 4 * f + 3
    h = 5 * (e.mod(1461).floordiv(4)) + 2
    day = h.mod(153).floordiv(5) + 1
    month = (h.floordiv(153) + 2).mod(12) + 1
    year = e.floordiv(1461) - 4716 + (14 - month).floordiv(12)
    return pl.date(year, month, 1) + pl.duration(days=day - 1)
