"""Delta write benchmark: neuralake vs raw deltalake on TPC-H SF1 lineitem, side by side.

One command (from the repository root)::

    .venv/bin/python bench/delta/run.py            # --repeats 3 --scale 1

Measures (medians of ``--repeats`` runs, interleaved so both sides see the same machine state):

* append throughput: ``NeuralakeDeltaTable.write`` vs ``deltalake.write_deltalake`` (same
  Polars frame, same partitioning by ship year);
* upsert of 1% of the rows, all in one ship year: ``table.upsert`` (merge restricted to the
  source's partitions) vs a raw ``DeltaTable.merge`` on the keys only; time and peak RSS, each run
  in a fresh child process (``resource.getrusage`` max RSS);
* optimize (compaction of 24 appended chunks): ``table.optimize()`` vs ``dt.optimize.compact()``;
* the cost of exactly-once commits: ``--token-appends`` appends of a ``--token-rows`` slice, each
  with neuralake's commit properties (app transaction + commitInfo token, see
  ``tables/delta/commit.py``) vs the same ``write_deltalake`` append without them (the tokens
  cannot be turned off in neuralake, so both sides are raw ``write_deltalake``).
  ``--only tokens`` runs just this part and updates it in an existing ``results.json``.

Results go to ``bench/delta/results.json`` and ``bench/delta/results.md``. The lineitem file is
generated with ``tpchgen-cli`` into ``bench/data/tpch-sf<scale>/`` if missing (reused otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
KEYS = ["l_orderkey", "l_linenumber"]
UPSERT_YEAR = 1995


def lineitem_path(scale: float) -> Path:
    folder = ROOT / "bench" / "data" / f"tpch-sf{scale:g}"
    path = folder / "lineitem.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("tpchgen-cli")
        subprocess.run(
            [
                str(exe),
                "parquet",
                "-s",
                f"{scale:g}",
                "--tables=lineitem",
                f"--output-dir={folder}",
            ],
            check=True,
        )
    return path


def load(scale: float) -> pl.DataFrame:
    df = pl.read_parquet(lineitem_path(scale))
    return df.with_columns(l_shipyear=pl.col("l_shipdate").dt.year().cast(pl.Int32))


def make_table(uri: str, schema: pl.Schema) -> Any:
    from neuralake import NeuralakeDeltaTable

    return NeuralakeDeltaTable(
        "lineitem", uri, schema=schema, partition_by=["l_shipyear"], unique_columns=KEYS
    )


# -- child processes (time + peak memory of one upsert) ---------------------------------------


def child_upsert(kind: str, uri: str, source: str) -> None:
    src = pl.read_parquet(source)
    start = time.perf_counter()
    if kind == "neuralake":
        metrics = make_table(uri, src.schema).upsert(src).to_dict()
    else:
        from deltalake import DeltaTable

        predicate = " AND ".join(f"t.{k} = s.{k}" for k in KEYS)
        metrics = (
            DeltaTable(uri)
            .merge(src, predicate, source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
    seconds = time.perf_counter() - start
    print(
        json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(), "metrics": metrics}, default=str)
    )


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux carries ``ru_maxrss`` over from the (large) parent across
    fork+exec, so the per-process high-water mark ``VmHWM`` is preferred where it exists."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# -- the benchmark ------------------------------------------------------------------------------


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def bench(scale: float, repeats: int, work: Path) -> dict[str, Any]:
    from deltalake import DeltaTable, write_deltalake

    df = load(scale)
    rows = df.height
    print(f"lineitem SF{scale:g}: {rows:,} rows", flush=True)

    # 1. append throughput (after one unmeasured warm-up write)
    write_deltalake(str(work / "warmup"), df, partition_by=["l_shipyear"])
    shutil.rmtree(work / "warmup")
    appends: dict[str, list[float]] = {"neuralake": [], "deltalake": []}
    for r in range(repeats):
        for kind in ("neuralake", "deltalake") if r % 2 == 0 else ("deltalake", "neuralake"):
            uri = str(work / f"append-{kind}-{r}")
            if kind == "neuralake":
                table = make_table(uri, df.schema)
                appends[kind].append(timed(lambda t=table: t.write(df)))
            else:
                appends[kind].append(
                    timed(lambda u=uri: write_deltalake(u, df, partition_by=["l_shipyear"]))
                )
            shutil.rmtree(uri)
            print(f"  append {kind} run {r}: {appends[kind][-1]:.2f}s", flush=True)

    # 2. upsert 1% of rows, all in one year
    base = str(work / "upsert-base")
    write_deltalake(base, df, partition_by=["l_shipyear"])
    n = rows // 100
    source = (
        df.filter(pl.col("l_shipyear") == UPSERT_YEAR)
        .sample(n=n, seed=7)
        .with_columns(l_extendedprice=pl.col("l_extendedprice") * 1.1)
    )
    source_path = str(work / "upsert-source.parquet")
    source.write_parquet(source_path)
    upserts: dict[str, list[dict[str, Any]]] = {"neuralake": [], "deltalake": []}
    for r in range(repeats):
        for kind in ("neuralake", "deltalake") if r % 2 == 0 else ("deltalake", "neuralake"):
            uri = str(work / f"upsert-{kind}-{r}")
            shutil.copytree(base, uri)
            upserts[kind].append(run_child("upsert", kind, uri, source_path))
            shutil.rmtree(uri)
            last = upserts[kind][-1]
            print(
                f"  upsert {kind} run {r}: {last['seconds']:.2f}s, {last['peak_mb']:.0f} MB",
                flush=True,
            )
    shutil.rmtree(base)

    # 3. optimize (compaction of many appended chunks)
    chunks = 24
    optimize: dict[str, list[float]] = {"neuralake": [], "deltalake": []}
    files: dict[str, int] = {}
    for r in range(repeats):
        for kind in ("neuralake", "deltalake") if r % 2 == 0 else ("deltalake", "neuralake"):
            uri = str(work / f"optimize-{kind}-{r}")
            for part in df.iter_slices(rows // chunks + 1):
                write_deltalake(uri, part, mode="append", partition_by=["l_shipyear"])
            if kind == "neuralake":
                table = make_table(uri, df.schema)
                t = timed(
                    lambda k=kind, tb=table: files.__setitem__(k, tb.optimize().files_removed)
                )
            else:
                dt = DeltaTable(uri)
                t = timed(
                    lambda k=kind, d=dt: files.__setitem__(
                        k, int(d.optimize.compact()["numFilesRemoved"])
                    )
                )
            optimize[kind].append(t)
            shutil.rmtree(uri)
            print(
                f"  optimize {kind} run {r}: {t:.2f}s ({files[kind]} files compacted)", flush=True
            )

    append_med = {k: median(v) for k, v in appends.items()}
    upsert_med = {
        k: {
            "seconds": median([x["seconds"] for x in v]),
            "peak_mb": median([x["peak_mb"] for x in v]),
            "files_rewritten": v[0]["metrics"].get(
                "files_removed", v[0]["metrics"].get("num_target_files_removed")
            ),
            "rows_updated": v[0]["metrics"].get(
                "rows_updated", v[0]["metrics"].get("num_target_rows_updated")
            ),
        }
        for k, v in upserts.items()
    }
    optimize_med = {k: median(v) for k, v in optimize.items()}
    return {
        "machine": {
            "python": platform.python_version(),
            "polars": pl.__version__,
            "deltalake": __import__("deltalake").__version__,
            "cpus": __import__("os").cpu_count(),
        },
        "scale": scale,
        "rows": rows,
        "repeats": repeats,
        "append": {
            "seconds": append_med,
            "rows_per_second": {k: round(rows / v) for k, v in append_med.items()},
            "ratio_neuralake_over_deltalake": round(
                append_med["neuralake"] / append_med["deltalake"], 3
            ),
            "runs": appends,
        },
        "upsert": {
            "source_rows": n,
            "year": UPSERT_YEAR,
            "median": upsert_med,
            "time_ratio_neuralake_over_deltalake": round(
                upsert_med["neuralake"]["seconds"] / upsert_med["deltalake"]["seconds"], 3
            ),
            "memory_ratio_neuralake_over_deltalake": round(
                upsert_med["neuralake"]["peak_mb"] / upsert_med["deltalake"]["peak_mb"], 3
            ),
            "runs": {
                k: [{kk: x[kk] for kk in ("seconds", "peak_mb")} for x in v]
                for k, v in upserts.items()
            },
        },
        "optimize": {
            "chunks": chunks,
            "seconds": optimize_med,
            "files_compacted": files,
            "runs": optimize,
        },
    }


def bench_tokens(df: pl.DataFrame, repeats: int, work: Path, appends: int) -> dict[str, Any]:
    """``appends`` appends of ``df`` with idempotency tokens vs without, interleaved."""
    from deltalake import write_deltalake

    from neuralake.tables.delta.commit import Attempt, commit_properties

    def append_all(uri: str, tokens: bool) -> float:
        write_deltalake(uri, df.head(1), partition_by=["l_shipyear"])  # the table exists
        start = time.perf_counter()
        for _ in range(appends):
            props = commit_properties(Attempt(0)) if tokens else commit_properties()
            write_deltalake(
                uri, df, mode="append", partition_by=["l_shipyear"], commit_properties=props
            )
        return time.perf_counter() - start

    runs: dict[str, list[float]] = {"tokens": [], "plain": []}
    append_all(str(work / "tokens-warmup"), True)
    shutil.rmtree(work / "tokens-warmup")
    for r in range(repeats):
        for kind in ("tokens", "plain") if r % 2 == 0 else ("plain", "tokens"):
            uri = str(work / f"tokens-{kind}-{r}")
            runs[kind].append(append_all(uri, kind == "tokens"))
            shutil.rmtree(uri)
            print(f"  {appends} appends {kind} run {r}: {runs[kind][-1]:.2f}s", flush=True)
    med = {k: median(v) for k, v in runs.items()}
    rows = df.height * appends
    return {
        "appends": appends,
        "rows_per_append": df.height,
        "seconds": med,
        "rows_per_second": {k: round(rows / v) for k, v in med.items()},
        "ratio_tokens_over_plain": round(med["tokens"] / med["plain"], 3),
        "runs": runs,
    }


def token_lines(t: dict[str, Any] | None) -> list[str]:
    if t is None:
        return []
    return [
        "",
        f"Exactly-once commits: {t['appends']} appends of {t['rows_per_append']:,} rows each "
        "(raw `write_deltalake`, medians):",
        "",
        "| appends | with idempotency token | without | ratio |",
        "|---|---|---|---|",
        f"| time (s) | {t['seconds']['tokens']} | {t['seconds']['plain']} | "
        f"{t['ratio_tokens_over_plain']} |",
        f"| rows/s | {t['rows_per_second']['tokens']:,} | {t['rows_per_second']['plain']:,} | |",
    ]


# -- keyed reads -------------------------------------------------------------------------------


def bench_keyed_reads(df: pl.DataFrame, repeats: int, work: Path) -> dict[str, Any]:
    """Keyed reads of lineitem against the same table read without a key (``pl.scan_delta``).

    Two keyed tables: written by neuralake (unique by construction), and the same plus a raw
    ``write_deltalake`` append of 1,000 existing keys with new quantities (de-duplicated: only
    the appended file's rows, and older rows of their keys, are told apart).
    """
    from deltalake import write_deltalake

    from neuralake import Filter, NeuralakeDeltaTable

    unique = str(work / "keyed-unique")
    start = time.perf_counter()
    NeuralakeDeltaTable("lineitem", unique, schema=df.schema, partition_by=["l_shipyear"],
                        unique_columns=KEYS).write(df)  # fmt: skip
    prepare = time.perf_counter() - start
    dedup = str(work / "keyed-dedup")
    shutil.copytree(unique, dedup)
    changed = df.filter(pl.col("l_orderkey") < 4000).head(1000)
    write_deltalake(dedup, changed.with_columns(l_quantity=pl.col("l_quantity") + 1).cast(df.schema),
                    mode="append", partition_by=["l_shipyear"])  # fmt: skip
    year = [Filter("l_shipdate", ">=", dt.date(1995, 1, 1)),
            Filter("l_shipdate", "<", dt.date(1996, 1, 1))]  # fmt: skip
    year_expr = pl.col("l_shipdate").is_between(dt.date(1995, 1, 1), dt.date(1996, 1, 1),
                                                closed="left")  # fmt: skip
    cases = [
        ("one year (l_shipdate in 1995)", year, year_expr),
        ("sum(l_quantity), full table", None, None),
        ("l_orderkey < 1000", [Filter("l_orderkey", "<", 1000)], pl.col("l_orderkey") < 1000),
    ]
    total = pl.col("l_quantity").sum()
    out: dict[str, Any] = {"prepare_seconds": round(prepare, 1), "cases": []}
    for variant, uri, target in (("unique by construction", unique, 1.2),
                                 ("needs de-duplication", dedup, 2.0)):  # fmt: skip
        table = NeuralakeDeltaTable("lineitem", uri, schema=df.schema,
                                    partition_by=["l_shipyear"], unique_columns=KEYS)  # fmt: skip
        for case, filters, expr in cases:

            def keyed(t: Any = table, f: Any = filters) -> Any:
                return t.scan(f, ["l_quantity"]).select(total).collect().item()

            def raw(u: str = uri, e: Any = expr) -> Any:
                lf = pl.scan_delta(u)
                return (lf if e is None else lf.filter(e)).select(total).collect().item()

            keyed(), raw()  # warm-up
            ks: list[float] = []
            rs: list[float] = []
            for r in range(max(repeats, 5)):
                for fn, xs in ((keyed, ks), (raw, rs)) if r % 2 == 0 else ((raw, rs), (keyed, ks)):
                    xs.append(timed(fn))
            k, b = statistics.median(ks), statistics.median(rs)
            out["cases"].append({
                "variant": variant, "case": case, "keyed_ms": round(k * 1000, 2),
                "raw_ms": round(b * 1000, 2), "ratio": round(k / b, 3), "target": target,
                "ok": k / b <= target,
            })  # fmt: skip
            print(f"  keyed {variant}, {case}: {k * 1000:.1f} ms vs {b * 1000:.1f} ms", flush=True)
    return out


def keyed_lines(r: dict[str, Any] | None) -> list[str]:
    if r is None:
        return []
    rows = [
        f"| {c['variant']} | {c['case']} | {c['keyed_ms']} | {c['raw_ms']} | {c['ratio']} | "
        f"≤ {c['target']:g} {'ok' if c['ok'] else 'MISSED'} |"
        for c in r["cases"]
    ]
    return [
        "",
        "Keyed reads (`unique_columns=[l_orderkey, l_linenumber]`, `sum(l_quantity)`) vs the "
        "same table read without a key (`pl.scan_delta`), medians in ms. De-duplication: the "
        "unique table plus a raw append of 1,000 existing keys. Preparing the keyed table "
        f"(neuralake write of SF1): {r['prepare_seconds']} s.",
        "",
        "| table | query | keyed | raw | ratio | target |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def markdown(r: dict[str, Any]) -> str:
    a, u, o = r["append"], r["upsert"], r["optimize"]
    m = r["machine"]
    return "\n".join(
        [
            "# Delta write benchmark",
            "",
            f"TPC-H SF{r['scale']:g} lineitem ({r['rows']:,} rows), partitioned by ship year; "
            f"medians of {r['repeats']} runs. Python {m['python']}, polars {m['polars']}, "
            f"deltalake {m['deltalake']}, {m['cpus']} CPUs. "
            "Reproduce: `.venv/bin/python bench/delta/run.py`.",
            "",
            "| operation | neuralake | raw deltalake | ratio |",
            "|---|---|---|---|",
            f"| append (s) | {a['seconds']['neuralake']} | {a['seconds']['deltalake']} | "
            f"{a['ratio_neuralake_over_deltalake']} |",
            f"| append (rows/s) | {a['rows_per_second']['neuralake']:,} | "
            f"{a['rows_per_second']['deltalake']:,} | |",
            f"| upsert 1% in {u['year']} (s) | {u['median']['neuralake']['seconds']} | "
            f"{u['median']['deltalake']['seconds']} | {u['time_ratio_neuralake_over_deltalake']} |",
            f"| upsert peak RSS (MB) | {u['median']['neuralake']['peak_mb']:.0f} | "
            f"{u['median']['deltalake']['peak_mb']:.0f} | "
            f"{u['memory_ratio_neuralake_over_deltalake']} |",
            f"| upsert files rewritten | {u['median']['neuralake']['files_rewritten']} | "
            f"{u['median']['deltalake']['files_rewritten']} | |",
            f"| optimize {o['chunks']} chunks (s) | {o['seconds']['neuralake']} | "
            f"{o['seconds']['deltalake']} | |",
            "",
            f"Upsert: {u['source_rows']:,} source rows, all with ship year {u['year']}; neuralake "
            "adds `t.l_shipyear IN (...)` to the merge predicate, the raw merge joins on the keys "
            "only. Each upsert runs in a fresh child process; peak RSS is that process's "
            "high-water mark (`VmHWM`; `ru_maxrss` where /proc is missing; includes the "
            "Python/Polars baseline).",
            *token_lines(r.get("append_tokens")),
            *keyed_lines(r.get("keyed_reads")),
            "",
        ]
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(HERE))
    p.add_argument("--token-rows", type=int, default=100_000)
    p.add_argument("--token-appends", type=int, default=20)
    p.add_argument("--only", choices=["tokens", "keyed"], help="run one part, update results.json")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ns = p.parse_args()
    if ns.child:
        _, kind, uri, source = ns.child
        child_upsert(kind, uri, source)
        return
    out = Path(ns.out)
    with tempfile.TemporaryDirectory(prefix="neuralake-delta-bench-") as tmp:
        if ns.only in ("tokens", "keyed"):
            result = json.loads((out / "results.json").read_text())
        else:
            result = bench(ns.scale, ns.repeats, Path(tmp))
        if ns.only != "keyed":
            sample = load(ns.scale).sample(n=ns.token_rows, seed=11)
            result["append_tokens"] = bench_tokens(sample, ns.repeats, Path(tmp), ns.token_appends)
        if ns.only in (None, "keyed"):
            result["keyed_reads"] = bench_keyed_reads(load(ns.scale), ns.repeats, Path(tmp))
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "results.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
