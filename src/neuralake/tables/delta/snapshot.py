"""Open Delta snapshots: the latest one, one version or time back, and the vacuumed-files check."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from neuralake.errors import InvalidParameterError, StorageError
from neuralake.storage import is_remote, list_files, redact_uri, unanswered
from neuralake.tables.delta.errors import describe, map_error, not_found_message, translated
from neuralake.tables.delta.protocol import check_logged

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.tables.delta.target import DeltaTarget

_T = TypeVar("_T")


def open_latest(target: DeltaTarget, *, write: bool = False) -> DeltaTable | None:
    """The latest snapshot, or ``None`` when no Delta table exists at the uri yet.

    Args:
        target: Where the table lives.
        write: Open with the write options (the snapshot is then used to commit).
    """
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    options = target.write_options() if write else target.read_options()
    started = time.monotonic()
    try:
        return DeltaTable(target.uri, storage_options=options)
    except TableNotFoundError:
        return None
    except Exception as exc:
        late = unanswered(target.cfg, started) if is_remote(target.uri) else None
        if late is not None:  # asking the store again (below) would only wait as long again
            raise StorageError(
                f"Table {target.label!r}: cannot open the log at {redact_uri(target.uri)}: "
                f"{late}. (delta-rs: {describe(exc, target.cfg)})"
            ) from exc
        check_logged(target)  # a feature no reader supports is named, not reported as a fault
        raise map_error(exc, target, "open the log") from exc


def require(target: DeltaTarget, *, write: bool = False) -> DeltaTable:
    """The latest snapshot; :class:`StorageError` when there is no table yet."""
    table = open_latest(target, write=write)
    if table is None:
        raise StorageError(not_found_message(target.label, target.uri))
    return table


def from_log(target: DeltaTarget, read: Callable[[DeltaTable], _T], what: str) -> _T:
    """``read`` applied to the latest snapshot, opened once, its errors mapped."""
    table = require(target)
    with translated(target, what):
        return read(table)


def open_snapshot(
    target: DeltaTarget,
    *,
    version: int | None = None,
    as_of: dt.datetime | str | None = None,
) -> DeltaTable:
    """The snapshot at ``version`` or ``as_of`` (the latest when neither is given).

    Raises:
        InvalidParameterError: Both given, a version that is not an int or does not exist, or
            an ``as_of`` that is not a time.
        StorageError: No table at the uri, or storage failed.
    """
    if version is not None and as_of is not None:
        raise InvalidParameterError(f"Table {target.label!r}: pass version= or as_of=, not both.")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidParameterError(
            f"Table {target.label!r}: version must be an int, got {version!r}."
        )
    when = None if as_of is None else as_datetime(as_of, target.label)
    table = require(target)
    if version is None and when is None:
        return table
    latest = table.version()
    if version is not None and not 0 <= version <= latest:
        raise InvalidParameterError(
            f"Table {target.label!r} has no version {version} (versions 0..{latest}). "
            "Pick a version from its history()."
        )
    with translated(target, f"load version {version if when is None else when.isoformat()}"):
        table.load_as_version(when if when is not None else version)  # type: ignore[arg-type]
    if when is not None:
        check_not_before(table, when, target)
        later = _last_committed_by(target, table.version(), latest, when)
        if later != table.version():
            with translated(target, f"load version {later}"):
                table.load_as_version(later)
    return table


def _last_committed_by(target: DeltaTarget, loaded: int, latest: int, when: dt.datetime) -> int:
    """The newest version whose ``commitInfo`` time is at or before ``when``, from ``loaded``.

    delta-rs resolves ``as_of`` by the commit files' storage times, which trail the commit
    times ``history()`` shows (a PUT finishes after its commit time is written): the time of a
    commit, copied from the history, must load that commit, not the one before.
    """
    version = loaded
    while version < latest:
        following = _commit_time(target, version + 1)
        if following is None or following > when:
            break
        version += 1
    return version


def check_not_before(table: DeltaTable, when: dt.datetime, target: DeltaTarget) -> None:
    """Refuse an ``as_of`` earlier than the commit it loaded: delta-rs loads the oldest commit
    for a time before the table existed, which would show rows that did not exist yet.

    delta-rs never loads a commit later than ``when`` otherwise, so only the loaded commit's
    own time is read, from its JSON file (``history()`` of an older snapshot mislabels its
    versions in deltalake 1.x).
    """
    loaded = table.version()
    first_time = _commit_time(target, loaded)
    # Storage may keep a commit file's time to the second (S3), and delta-rs resolves as_of by
    # that time: only a time before that second is surely before the commit.
    if first_time is None or when >= first_time.replace(microsecond=0):
        return
    raise InvalidParameterError(
        f"Table {target.label!r}: as_of={when.isoformat()} is before its first commit (version "
        f"{loaded} at {first_time.isoformat()}), so the table did not exist then. Pass an "
        "as_of at or after that time, or a version=, as listed by history()."
    )


def _commit_time(target: DeltaTarget, version: int) -> dt.datetime | None:
    """The ``commitInfo`` time of one commit, or ``None`` if it has none (or is unreadable)."""
    from neuralake.tables.delta.commits import CommitLog

    try:
        actions = CommitLog(target).actions(version)
    except (OSError, ValueError):  # a checkpointed-away commit: nothing to compare with
        return None
    for action in actions:
        info = action.get("commitInfo")
        if isinstance(info, dict) and isinstance(info.get("timestamp"), int):
            return dt.datetime.fromtimestamp(info["timestamp"] / 1000, tz=dt.UTC)
    return None


def exists(target: DeltaTarget) -> bool:
    """True when a Delta log exists at the uri."""
    from deltalake import DeltaTable

    with translated(target, "look for the log"):
        return bool(DeltaTable.is_deltatable(target.uri, storage_options=target.read_options()))


def as_datetime(value: dt.datetime | str, label: str) -> dt.datetime:
    """``as_of`` as an aware datetime (naive values are UTC)."""
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError as exc:
        raise InvalidParameterError(
            f"Table {label!r}: as_of={value!r} is not an ISO-8601 time such as "
            "'2026-11-01T12:00:00+00:00'."
        ) from exc
    if not isinstance(when, dt.datetime):
        raise InvalidParameterError(
            f"Table {label!r}: as_of must be a datetime or an ISO-8601 string, got {value!r}."
        )
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def uri_path(uri: str) -> str:
    """``uri`` without its scheme, or as an absolute local path (how files are compared)."""
    if is_remote(uri):
        return uri.split("://", 1)[1]
    return os.path.abspath(uri.removeprefix("file://"))


def check_files_present(target: DeltaTarget, version: int, *, loaded: DeltaTable | None) -> None:
    """Raise :class:`StorageError` naming the oldest readable version if ``version``'s data
    files were vacuumed.

    The folder is listed only when ``version`` has files the current version no longer
    references (vacuum removes no others).

    Args:
        target: Where the table lives.
        version: The version about to be read or restored.
        loaded: That version's snapshot when already open.
    """
    from deltalake import DeltaTable

    opts = target.read_options()
    with translated(target, f"check the files of version {version}"):
        old = (
            loaded if loaded is not None else DeltaTable(target.uri, version, storage_options=opts)
        )
        latest = DeltaTable(target.uri, storage_options=opts)
        candidates = set(old.file_uris()) - set(latest.file_uris())
    if not candidates:
        return
    root = uri_path(target.uri).rstrip("/")
    existing = {f"{root}/{rel}" for rel, _ in list_files(target.uri, target.cfg)}
    missing = sorted(u for u in candidates if uri_path(u) not in existing)
    if not missing:
        return
    oldest = latest.version()
    with translated(target, "find the oldest readable version"):
        for v in range(latest.version() - 1, version, -1):
            latest.load_as_version(v)
            if any(uri_path(u) not in existing for u in latest.file_uris()):
                break
            oldest = v
    raise StorageError(
        f"Table {target.label!r}: version {version} cannot be read, {len(missing)} of its data "
        f"files were removed by vacuum (e.g. {os.path.basename(missing[0])}). The oldest "
        f"readable version is {oldest}."
    )
