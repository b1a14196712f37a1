"""Table size and column profiles from file statistics: Parquet footers and per-file stats.

Only footers are read (a few kilobytes per file, never a data page), in parallel with a bounded
pool. :class:`Profiler` folds per-file statistics into column profiles the same way for every
source: min of mins, max of maxes, sum of null counts, and a min/max only when every file that
holds non-null values reports one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neuralake.errors import StorageError
from neuralake.storage import arrow_filesystem, arrow_path, has_embedded_credentials, is_remote
from neuralake.tables.facts import ColumnProfile, json_scalar

if TYPE_CHECKING:
    import pyarrow.fs as pafs

    from neuralake.storage import StorageConfig

#: Footers read at once: enough to hide S3 latency, few enough to stay polite to the store.
FOOTER_THREADS = 8
PARQUET_FOOTERS = "parquet footers"


@dataclass
class ColumnTotals:
    """Running totals of one column over the files seen so far."""

    min: Any = None
    max: Any = None
    nulls: int = 0
    bounds_missing: bool = False
    nulls_missing: bool = False
    source: str = ""
    note: str | None = None


@dataclass
class Profiler:
    """Folds per-file ``(column, min, max, null count)`` into :class:`ColumnProfile` records."""

    columns: dict[str, ColumnTotals] = field(default_factory=dict)

    def add(
        self,
        name: str,
        low: Any,
        high: Any,
        nulls: int | None,
        rows: int | None,
        source: str,
    ) -> None:
        """One file's statistics for ``name`` (``None``: the file does not say)."""
        col = self.columns.setdefault(name, ColumnTotals(source=source))
        if nulls is None:
            col.nulls_missing = True
        else:
            col.nulls += int(nulls)
        if low is None or high is None:
            # A file whose values are all null has no bounds and loses nothing.
            if not (nulls is not None and rows is not None and nulls >= rows):
                col.bounds_missing = True
            return
        try:
            col.min = low if col.min is None or low < col.min else col.min
            col.max = high if col.max is None or high > col.max else col.max
        except TypeError:  # files disagree on the type: no bounds rather than wrong ones
            col.bounds_missing = True

    def profiles(
        self, rows: int | None, order: Iterable[str] | None = None
    ) -> tuple[ColumnProfile, ...]:
        """The profiles, in ``order`` (default: first seen) then any other columns."""
        names = list(order or ())
        names += [n for n in self.columns if n not in names]
        out = []
        for name in names:
            col = self.columns.get(name)
            if col is None:
                continue
            nulls = None if col.nulls_missing else col.nulls
            note = col.note
            if col.bounds_missing and note is None:
                note = "some files have no min/max"
            bounded = not col.bounds_missing
            out.append(
                ColumnProfile(
                    name=name,
                    min=json_scalar(col.min) if bounded else None,
                    max=json_scalar(col.max) if bounded else None,
                    null_count=nulls,
                    null_fraction=None if nulls is None or not rows else round(nulls / rows, 6),
                    source=col.source,
                    note=note,
                )
            )
        return tuple(out)


@dataclass(frozen=True)
class Footer:
    """What one Parquet footer says: rows, and ``(min, max, nulls)`` per leaf column path."""

    rows: int
    columns: dict[str, tuple[Any, Any, int | None]]


def read_footer(fs: pafs.FileSystem, uri: str, size: int | None, storage: StorageConfig) -> Footer:
    """One file's footer (row-group statistics folded per leaf column) through ``fs``.

    A known ``size`` (from the listing or the Delta log) lets the read be one ranged GET of the
    file's tail, without a HEAD request first.
    """
    import pyarrow.dataset as ds

    try:
        meta = ds.ParquetFileFormat().make_fragment(arrow_path(uri), fs, file_size=size).metadata
    except (OSError, ValueError) as exc:
        raise StorageError(
            storage.redact(f"Cannot read the Parquet footer of {uri}: {exc}")
        ) from exc
    prof = Profiler()
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(group.num_columns):
            chunk = group.column(j)
            st = chunk.statistics
            bounds = st is not None and st.has_min_max
            prof.add(
                chunk.path_in_schema,
                st.min if bounds else None,
                st.max if bounds else None,
                st.null_count if st is not None and st.has_null_count else None,
                group.num_rows,
                PARQUET_FOOTERS,
            )
    cols = {
        name: (None if c.bounds_missing else c.min, None if c.bounds_missing else c.max,
               None if c.nulls_missing else c.nulls)
        for name, c in prof.columns.items()
    }  # fmt: skip
    return Footer(meta.num_rows, cols)


def read_footers(files: Sequence[tuple[str, int | None]], storage: StorageConfig) -> list[Footer]:
    """The footers of ``(uri, bytes or None)`` files, in order, read by at most
    :data:`FOOTER_THREADS` threads over one filesystem (one connection pool) per scheme."""
    if not files:
        return []
    filesystems: dict[str, pafs.FileSystem] = {}
    for uri, _ in files:
        scheme = _scheme(uri)
        if scheme not in filesystems or has_embedded_credentials(uri):  # the latter raises
            filesystems[scheme] = arrow_filesystem(uri, storage)[0]

    def read(file: tuple[str, int | None]) -> Footer:
        return read_footer(filesystems[_scheme(file[0])], file[0], file[1], storage)

    with ThreadPoolExecutor(max_workers=min(FOOTER_THREADS, len(files))) as pool:
        return list(pool.map(read, files))


def _scheme(uri: str) -> str:
    return uri.partition("://")[0] if is_remote(uri) else ""


def fold_footers(
    footers: Sequence[Footer], prof: Profiler, rename: dict[str, str] | None = None
) -> int:
    """Add every footer's columns to ``prof``; returns the total row count."""
    names: dict[str, None] = {}
    for f in footers:
        for name in f.columns:
            names.setdefault((rename or {}).get(name, name))
    for f in footers:
        seen = set()
        for raw, (low, high, nulls) in f.columns.items():
            name = (rename or {}).get(raw, raw)
            seen.add(name)
            prof.add(name, low, high, nulls, f.rows, PARQUET_FOOTERS)
        for name in names:
            if name not in seen:  # added later (schema evolution): null in this file
                prof.add(name, None, None, f.rows, f.rows, PARQUET_FOOTERS)
    return sum(f.rows for f in footers)
