"""Which reader a Delta protocol needs, decided from the protocol alone.

The same decision serves an open snapshot and a log that delta-rs refuses to open (it stops
at an unknown reader feature with a generic error), so a table whose features no reader here
supports always gets an :class:`~neuralake.errors.UnsupportedFeatureError` naming them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuralake.errors import UnsupportedFeatureError
from neuralake.tables.delta.commits import CommitLog

if TYPE_CHECKING:
    from neuralake.tables.delta.target import DeltaTarget

POLARS = "polars"
DELTA_RS = "delta-rs"

# Reader features each reader handles (Delta protocol reader version 3 lists them by name).
_POLARS_FEATURES = frozenset(
    {"deletionVectors", "timestampNtz", "variantType", "variantType-preview"}
)
_DELTA_RS_FEATURES = _POLARS_FEATURES | {"columnMapping", "v2Checkpoint", "vacuumProtocolCheck"}
_COLUMN_MAPPING_VERSION = 2  # reader version 2 means column mapping, without a feature list
_MAX_READER_VERSION = 3


def reader_for(label: str, version: int, features: frozenset[str]) -> str:
    """:data:`POLARS` or :data:`DELTA_RS` for a protocol's reader version and features.

    Raises:
        UnsupportedFeatureError: Neither reader supports the protocol (names the features).
    """
    if version > _MAX_READER_VERSION:
        raise UnsupportedFeatureError(
            f"Table {label!r} requires Delta reader version {version}; the readers here support "
            f"up to {_MAX_READER_VERSION}. Upgrade deltalake, or rewrite the table with an "
            "older protocol."
        )
    if version == _COLUMN_MAPPING_VERSION:
        return DELTA_RS
    features = features if version == _MAX_READER_VERSION else frozenset()
    if features <= _POLARS_FEATURES:
        return POLARS
    missing = sorted(features - _DELTA_RS_FEATURES)
    if missing:
        raise UnsupportedFeatureError(
            f"Table {label!r} uses the Delta reader feature(s) {', '.join(missing)}, which no "
            "reader here supports. Upgrade deltalake, or rewrite the table without them."
        )
    return DELTA_RS


def check_logged(target: DeltaTarget) -> None:
    """Raise :class:`UnsupportedFeatureError` if the newest protocol in the JSON commits of
    ``target``'s log needs a feature no reader here supports; return quietly otherwise (also
    when the log cannot be read: the caller reports its own error then)."""
    try:
        protocol = _newest_protocol(target)
    except (OSError, ValueError):
        return
    if protocol is not None:
        version = protocol.get("minReaderVersion", 1)
        features = protocol.get("readerFeatures") or []
        if isinstance(version, int) and isinstance(features, list):
            reader_for(target.label, version, frozenset(map(str, features)))


def _newest_protocol(target: DeltaTarget) -> dict[str, object] | None:
    log = CommitLog(target)
    for version in reversed(log.versions()):
        for action in log.actions(version):
            if isinstance(action.get("protocol"), dict):
                return action["protocol"]  # type: ignore[no-any-return]
    return None
