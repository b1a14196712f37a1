"""The ``lake`` fixture: a real catalog over a Delta and a Parquet table in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .lakes import Lake, make_lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return make_lake(tmp_path)
