"""Keyed Delta tables: when a table is unique on its key by construction, and the checks that
keep it so.

Semantics:

* A table declared with ``unique_columns`` K returns one row per key: the row of the most
  recent commit holding the key (rows of one commit with the same key: one of them).
* Every neuralake commit that keeps K unique carries ``neuralake.uniqueKey = "k1,k2"`` in its
  ``commitInfo``: creating the table, full overwrites and first writes (checked for duplicate
  keys, also marked ``neuralake.uniqueKeyScope = "table"``: they vouch for every live row),
  appends and predicate overwrites (new keys checked against the rows they keep), and upserts
  on K (a key found outside the source's partitions turns off the partition restriction).
  ``create()`` also records K in the table property ``neuralake.uniqueKey``.
* The table is *unique by construction* at version V when the log, walked back from V, reaches
  a ``"table"``-scope commit on K before any commit that adds data (``dataChange`` true)
  without the K marker. Commits that add no data (optimize, vacuum, deletes, property and
  constraint changes) keep the state. Commits removed by log cleanup are trusted when the
  table property names K (nothing else survives a checkpoint); otherwise, or when more than
  :data:`MAX_WALK` commits would have to be read, the table is not trusted.
* Unique by construction: reads skip de-duplication. Otherwise, when the table was unique by
  construction at some earlier version, only the files added since are de-duplicated (and
  shadow older rows with the same key); with no such version, every row is de-duplicated.

The walk reads each JSON commit once per process: results are cached per table (uri, Delta
table id, key) and extended commit by commit as the table grows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neuralake.errors import InvalidParameterError
from neuralake.tables.delta.commits import CommitLog

if TYPE_CHECKING:
    import polars as pl
    from deltalake import DeltaTable

    from neuralake.storage import StorageConfig
    from neuralake.tables.delta.target import DeltaTarget

PROPERTY = "neuralake.uniqueKey"
"""Table property (``metaData.configuration``) naming the key, comma separated."""
MARKER = "neuralake.uniqueKey"
"""``commitInfo`` field: this commit keeps the named key unique."""
SCOPE = "neuralake.uniqueKeyScope"
"""``commitInfo`` field, ``"table"``: every live row of the table was checked by this commit."""
MAX_WALK = 2000
"""Most JSON commits read to decide one snapshot (older history: not trusted)."""
_CACHE_SIZE = 64


def encode(keys: Sequence[str]) -> str | None:
    """The key as the property and marker spell it (``None``: a name holds a comma)."""
    return None if any("," in k for k in keys) else ",".join(keys)


def _decode(value: object) -> frozenset[str] | None:
    return frozenset(value.split(",")) if isinstance(value, str) and value else None


def commit_metadata(keys: Sequence[str], *, whole_table: bool) -> dict[str, str]:
    """The ``commitInfo`` fields of a commit that keeps ``keys`` unique (``{}``: cannot say)."""
    text = encode(keys)
    if text is None or not keys:
        return {}
    return {MARKER: text, SCOPE: "table"} if whole_table else {MARKER: text}


def table_properties(keys: Sequence[str]) -> dict[str, str]:
    """The table property recording ``keys`` (for ``DeltaTable.create``)."""
    text = encode(keys)
    return {} if text is None or not keys else {PROPERTY: text}


# -- what the log says -----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyState:
    """What a snapshot's log says about its key.

    Attributes:
        version: The snapshot version.
        unique: Unique by construction at ``version``: no de-duplication needed.
        trusted_version: The latest version at or before ``version`` that was unique by
            construction (``None``: none known, so every row must be de-duplicated).
        added: Data files (log paths) added after ``trusted_version``, with the version that
            added each (newest wins a key).
    """

    version: int
    unique: bool
    trusted_version: int | None
    added: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Commit:
    version: int
    marked: bool
    whole_table: bool
    data: bool
    added: tuple[str, ...]


def _facts(version: int, actions: Iterable[dict[str, Any]], keys: frozenset[str]) -> _Commit:
    marked = whole = data = False
    added = []
    for action in actions:
        info = action.get("commitInfo")
        if isinstance(info, dict):
            marked = _decode(info.get(MARKER)) == keys
            whole = marked and info.get(SCOPE) == "table"
        add = action.get("add")
        if isinstance(add, dict):
            added.append(str(add.get("path")))
            data = data or add.get("dataChange", True) is not False
    return _Commit(version, marked, whole, data, tuple(added))


def _step(state: KeyState, c: _Commit) -> KeyState:
    if c.whole_table:
        return KeyState(c.version, True, c.version)
    if state.unique and (c.marked or not c.data):
        return KeyState(c.version, True, c.version)
    # Not unique: every file this commit adds may hold duplicates, compacted ones included.
    added = dict(state.added)
    added.update(dict.fromkeys(c.added, c.version))
    return KeyState(c.version, False, state.trusted_version, added)


def _walk(log: CommitLog, version: int, keys: frozenset[str], property_keys: object) -> KeyState:
    """The state at ``version``, walking back to the last commit that vouches for the table."""
    seen: list[_Commit] = []
    start = KeyState(-1, False, None)
    v = version
    while v >= 0:
        if len(seen) >= MAX_WALK:
            break  # too much history to read: not trusted
        try:
            c = _facts(v, log.actions(v), keys)
        except (OSError, ValueError):
            # Removed by log cleanup (or unreadable): only the table property survives.
            if _decode(property_keys) == keys:
                start = KeyState(v, True, v)
            break
        seen.append(c)
        if c.whole_table:
            break
        v -= 1
    state = start
    for c in reversed(seen):
        state = _step(state, c)
    return state


_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple[str, str, frozenset[str]], KeyState] = OrderedDict()


def _cached(key: tuple[str, str, frozenset[str]]) -> KeyState | None:
    with _LOCK:
        return _CACHE.get(key)


def _remember(key: tuple[str, str, frozenset[str]], state: KeyState) -> None:
    with _LOCK:
        old = _CACHE.get(key)
        if old is None or old.version <= state.version:
            _CACHE[key] = state
            _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def key_state(target: DeltaTarget, table: DeltaTable, keys: Sequence[str]) -> KeyState:
    """The :class:`KeyState` of ``table``'s snapshot for ``keys`` (cached; see the module)."""
    wanted = frozenset(keys)
    version = table.version()
    meta = table.metadata()
    cache_key = (target.uri.rstrip("/"), str(meta.id), wanted)
    log = CommitLog(target)
    state = _cached(cache_key)
    if state is not None and state.version <= version:
        try:
            for v in range(state.version + 1, version + 1):
                state = _step(state, _facts(v, log.actions(v), wanted))
        except (OSError, ValueError):
            state = None  # cleaned up meanwhile: walk again
        if state is not None:
            _remember(cache_key, state)
            return state
    state = _walk(log, version, wanted, meta.configuration.get(PROPERTY))
    _remember(cache_key, state)
    return state


def unique_by_construction(
    table: DeltaTable, keys: Sequence[str], storage: StorageConfig | None = None
) -> bool:
    """True when ``table``'s snapshot holds one row per ``keys`` by construction, so an engine
    may read it without de-duplicating (see the module docstring for the rule).

    Args:
        table: The snapshot to read (any version).
        keys: The key columns.
        storage: Storage settings for the log (``None``: from the environment).

    Example:
        >>> import tempfile, polars as pl
        >>> from deltalake import DeltaTable, write_deltalake
        >>> from neuralake import NeuralakeDeltaTable
        >>> t = NeuralakeDeltaTable("kv", tempfile.mkdtemp() + "/kv", unique_columns=["k"])
        >>> _ = t.write(pl.DataFrame({"k": [1, 2], "v": ["a", "b"]}))
        >>> unique_by_construction(t.delta_table(), ["k"])
        True
        >>> write_deltalake(t.uri, pl.DataFrame({"k": [2], "v": ["c"]}), mode="append")
        >>> unique_by_construction(t.delta_table(), ["k"])
        False
    """
    from neuralake.storage import StorageConfig
    from neuralake.tables.delta.snapshot import uri_path
    from neuralake.tables.delta.target import DeltaTarget

    uri = table.table_uri
    if uri.startswith("file://"):
        uri = uri_path(uri)
    cfg = storage if storage is not None else StorageConfig.from_env()
    target = DeltaTarget(uri=uri.rstrip("/"), label=uri, name="", cfg=cfg)
    return key_state(target, table, keys).unique


# -- checks made by writes --------------------------------------------------------------------


def check_frame(label: str, df: pl.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise :class:`InvalidParameterError` if ``df`` lacks a key column or repeats a key."""
    import polars as pl

    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"Table {label!r}: the {what} lacks key column(s) {missing} of unique_columns "
            f"{list(keys)}; add them to the data."
        )
    dupes = df.select(keys).filter(pl.struct(list(keys)).is_duplicated())
    if dupes.height:
        raise InvalidParameterError(
            f"Table {label!r}: the {what} has {dupes.height} rows with duplicate keys "
            f"{list(keys)} (e.g. {dupes.row(0, named=True)}); each key may appear once."
        )


def key_range_filter(df: pl.DataFrame, keys: Sequence[str]) -> pl.Expr:
    """Rows whose key columns lie within ``df``'s min/max (file statistics skip the rest)."""
    import polars as pl

    expr = pl.lit(True)
    for k in keys:
        col = df.get_column(k)
        if col.dtype.is_numeric() or col.dtype.is_temporal():
            lo, hi = col.min(), col.max()
            if lo is not None and hi is not None and not col.has_nulls():
                expr = expr & pl.col(k).is_between(lo, hi)
    return expr


def existing_keys(
    table: DeltaTable, df: pl.DataFrame, keys: Sequence[str], kept: pl.Expr | None = None
) -> pl.DataFrame:
    """Keys of ``df`` already in ``table`` (among the rows ``kept`` selects, all by default).

    Reads only the key columns (and those of ``kept``), skipping files by statistics.
    """
    import polars as pl

    lf = pl.scan_delta(table)
    if kept is not None:
        lf = lf.filter(kept)
    lf = lf.filter(key_range_filter(df, keys)).select(keys)
    return lf.join(df.lazy().select(keys), on=list(keys), how="semi", nulls_equal=True).collect()


def refuse_existing(label: str, found: pl.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise :class:`InvalidParameterError` naming an existing key, if ``found`` has any."""
    if found.height:
        raise InvalidParameterError(
            f"Table {label!r}: {what} would repeat {found.height} key(s) {list(keys)} already in "
            f"the table (e.g. {found.row(0, named=True)}); use upsert() to update existing keys."
        )
