"""Generate the TPC-H demo lake with ``tpchgen-cli`` and lay it out the way the catalog reads it.

Layout under ``<lake>/tpch/``:

========================  ================================================================
``lineitem/``, ``orders/``  Delta tables partitioned by ``l_shipyear`` / ``o_orderyear``
``part/``                  hive-partitioned Parquet (``p_brand=Brand#13/...``)
``partsupp/``              hive-partitioned Parquet (``ps_bucket=3/...``, ``ps_partkey % 10``)
``customer/``              directory-partitioned Parquet (``BUILDING/...``, by ``c_mktsegment``)
``nation.parquet`` ...     plain Parquet files read by the function tables
========================  ================================================================

A marker file ``<lake>/.neuralake-demo.json`` records the scale; running again with the same
scale does nothing unless ``force=True``.

Run it from the repository root::

    python -m examples.tpch.generate --scale 0.1 --lake lake
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import polars as pl

logger = logging.getLogger("neuralake.examples.tpch")

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER = ".neuralake-demo.json"
#: Bumped whenever the on-disk layout changes, so old lakes are regenerated.
LAYOUT_VERSION = 1
#: Delta data files are cut at this size, so each year holds several files covering contiguous
#: ``l_orderkey`` ranges at larger scales (file statistics can then skip files).
DELTA_TARGET_FILE_SIZE = 16 * 1024 * 1024
TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
PARTSUPP_BUCKETS = 10


def default_lake() -> Path:
    """``$NEURALAKE_DEMO_LAKE``, or ``lake/`` at the repository root."""
    return Path(os.environ.get("NEURALAKE_DEMO_LAKE", REPO_ROOT / "lake"))


def tpchgen_binary() -> str:
    """Path of the ``tpchgen-cli`` executable: on ``PATH`` or next to the running Python."""
    beside = Path(sys.executable).parent / "tpchgen-cli"
    found = shutil.which("tpchgen-cli") or (str(beside) if beside.exists() else None)
    if found is None:
        raise FileNotFoundError(
            "tpchgen-cli not found. Install it with `pip install tpchgen-cli` "
            "(or `pip install neuralake[demo]`)."
        )
    return found


def tpchgen_command(binary: str, scale: float, out: Path) -> list[str]:
    """The ``tpchgen-cli`` command line for Parquet output.

    tpchgen-cli 1.x took ``--format parquet``; 2.x and later use a ``parquet`` subcommand.
    """
    usage = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False).stdout
    fmt = ["--format", "parquet"] if "--format" in usage else ["parquet"]
    return [binary, *fmt, "--scale-factor", f"{scale:g}", "--output-dir", str(out)]


def _version(binary: str) -> str:
    run = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return run.stdout.strip() or "tpchgen-cli"


def read_marker(lake: Path) -> dict[str, Any] | None:
    """The marker of a generated lake, or ``None`` if there is none (or it is unreadable)."""
    try:
        data = json.loads((Path(lake) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise (steps still go to logging)."""

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream = total, enabled, stream
        self.done = 0
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        logger.info("tpch demo lake: %s", label)
        if self.enabled:
            width = 24
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            elapsed = time.perf_counter() - self.start
            line = f"\r[{bar}] {self.done}/{self.total} {label} ({elapsed:.1f}s)"
            self.stream.write(f"{line:<78}")
            self.stream.flush()

    def advance(self) -> None:
        self.done += 1

    def close(self) -> None:
        if self.enabled:
            self.step("done")
            self.stream.write("\n")
            self.stream.flush()


def generate(
    lake: Path | str,
    scale: float = 0.1,
    *,
    force: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Generate the TPC-H demo lake under ``lake/tpch/``.

    Args:
        lake: Lake root folder (created if missing).
        scale: TPC-H scale factor (``1`` is ~6M lineitem rows; ``0.1`` takes a few seconds).
        force: Regenerate even if the lake already holds this scale.
        progress: Show a progress bar; ``None`` shows it only when stdout is a terminal.

    Returns:
        ``{"lake", "scale", "generated", "seconds", "tables": {name: {format, path, rows,
        partitions}}}``; ``generated`` is false when an existing lake was kept.

    Example:
        >>> info = generate(Path("lake"), scale=0.1)  # doctest: +SKIP
        >>> info["tables"]["lineitem"]["rows"]  # doctest: +SKIP
        600572
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}.")
    lake = Path(lake)
    marker = read_marker(lake)
    if (
        not force
        and marker is not None
        and marker.get("scale") == scale
        and marker.get("layout_version") == LAYOUT_VERSION
    ):
        logger.info("tpch demo lake at %s already has scale %g; skipping", lake, scale)
        return {**marker, "lake": str(lake), "generated": False, "seconds": 0.0}

    start = time.perf_counter()
    show = sys.stdout.isatty() if progress is None else progress
    bar = _Progress(total=1 + len(TABLES), enabled=show, stream=sys.stdout)
    root = lake / "tpch"
    root.mkdir(parents=True, exist_ok=True)
    (lake / MARKER).unlink(missing_ok=True)  # a half-written lake must not look complete

    with tempfile.TemporaryDirectory(prefix=".tpchgen-", dir=lake) as tmp:
        bar.step(f"tpchgen-cli scale {scale:g}")
        cmd = tpchgen_command(tpchgen_binary(), scale, Path(tmp))
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed with exit code {run.returncode}:\n{run.stderr.strip()}"
            )
        bar.advance()
        tables: dict[str, dict[str, Any]] = {}
        for name in TABLES:
            bar.step(f"writing {name}")
            df = pl.read_parquet(Path(tmp) / f"{name}.parquet")
            tables[name] = _WRITERS[name](df, root)
            tables[name]["rows"] = df.height
            bar.advance()
    bar.close()

    info: dict[str, Any] = {
        "layout_version": LAYOUT_VERSION,
        "scale": scale,
        "generator": _version(cmd[0]),
        "tables": tables,
    }
    (lake / MARKER).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    seconds = round(time.perf_counter() - start, 3)
    logger.info("tpch demo lake written to %s in %.1fs", lake, seconds)
    return {**info, "lake": str(lake), "generated": True, "seconds": seconds}


# -- writers ----------------------------------------------------------------------------------


def _clear(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _write_delta(
    df: pl.DataFrame, path: Path, partition_by: str, description: str, keys: list[str]
) -> None:
    """Written through neuralake, which checks the key: the table is unique by construction,
    so keyed reads skip de-duplication (and the Daft engine can read it)."""
    from neuralake import NeuralakeDeltaTable

    _clear(path)
    table = NeuralakeDeltaTable(path.name, str(path), partition_by=[partition_by],
                                unique_columns=keys, description=description)  # fmt: skip
    table.write(df, mode="overwrite", target_file_size=DELTA_TARGET_FILE_SIZE)


def _write_hive(df: pl.DataFrame, path: Path, column: str) -> None:
    """``column=value/`` folders, one Parquet file each, written by Polars' hive writer."""
    _clear(path)
    df.sort(column).write_parquet(path, partition_by=column, mkdir=True)


def _write_directory(df: pl.DataFrame, path: Path, column: str) -> None:
    """``value/`` folders holding files without the partition column."""
    _clear(path)
    for (value,), part in df.partition_by(column, as_dict=True, include_key=False).items():
        folder = path / str(value)
        folder.mkdir(parents=True)
        part.write_parquet(folder / "part-00000.parquet")


def _write_file(df: pl.DataFrame, path: Path) -> None:
    _clear(path)
    df.write_parquet(path)


def _lineitem(df: pl.DataFrame, root: Path) -> dict[str, Any]:
    df = df.with_columns(l_shipyear=pl.col("l_shipdate").dt.year().cast(pl.Int32))
    _write_delta(df, root / "lineitem", "l_shipyear", "TPC-H line items by ship year",
                 ["l_orderkey", "l_linenumber"])  # fmt: skip
    return {"format": "delta", "path": "tpch/lineitem", "partitions": ["l_shipyear"]}


def _orders(df: pl.DataFrame, root: Path) -> dict[str, Any]:
    df = df.with_columns(o_orderyear=pl.col("o_orderdate").dt.year().cast(pl.Int32))
    _write_delta(df, root / "orders", "o_orderyear", "TPC-H orders by order year", ["o_orderkey"])
    return {"format": "delta", "path": "tpch/orders", "partitions": ["o_orderyear"]}


def _part(df: pl.DataFrame, root: Path) -> dict[str, Any]:
    _write_hive(df, root / "part", "p_brand")
    return {"format": "parquet-hive", "path": "tpch/part", "partitions": ["p_brand"]}


def _partsupp(df: pl.DataFrame, root: Path) -> dict[str, Any]:
    df = df.with_columns(ps_bucket=(pl.col("ps_partkey") % PARTSUPP_BUCKETS).cast(pl.Int32))
    _write_hive(df, root / "partsupp", "ps_bucket")
    return {"format": "parquet-hive", "path": "tpch/partsupp", "partitions": ["ps_bucket"]}


def _customer(df: pl.DataFrame, root: Path) -> dict[str, Any]:
    _write_directory(df, root / "customer", "c_mktsegment")
    return {"format": "parquet-directory", "path": "tpch/customer", "partitions": ["c_mktsegment"]}


def _plain(name: str) -> Callable[[pl.DataFrame, Path], dict[str, Any]]:
    def write(df: pl.DataFrame, root: Path) -> dict[str, Any]:
        _write_file(df, root / f"{name}.parquet")
        return {"format": "parquet", "path": f"tpch/{name}.parquet", "partitions": []}

    return write


_WRITERS: dict[str, Callable[[pl.DataFrame, Path], dict[str, Any]]] = {
    "lineitem": _lineitem,
    "orders": _orders,
    "part": _part,
    "partsupp": _partsupp,
    "customer": _customer,
    "nation": _plain("nation"),
    "region": _plain("region"),
    "supplier": _plain("supplier"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the neuralake TPC-H demo lake.")
    parser.add_argument("--scale", type=float, default=0.1, help="TPC-H scale factor (0.1)")
    parser.add_argument("--lake", type=Path, default=None, help="lake folder (./lake)")
    parser.add_argument("--force", action="store_true", help="regenerate an existing lake")
    args = parser.parse_args(argv)
    info = generate(args.lake or default_lake(), args.scale, force=args.force)
    verb = "generated" if info["generated"] else "already present (use --force to regenerate)"
    print(f"TPC-H scale {info['scale']:g} lake at {info['lake']}: {verb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
