"""API benchmark: latency and throughput through the API vs ``catalog.sql`` in-process, and ROAPI.

    python bench/api/run.py [--scale 1] [--requests 200] [--warmup 20] [--seconds 10]

On the TPC-H lake under ``bench/data/lake`` (generated once), measures two queries:

- point: ``SELECT * FROM tpch.orders WHERE o_orderkey = K`` (K varies; also as the REST read
  ``GET /api/tables/tpch.orders?filter[o_orderkey]=K``)
- aggregate: ``count(*)`` and ``sum(o_totalprice)`` over one ``o_orderyear`` partition

sequentially (median and p95, one keep-alive connection on 127.0.0.1) through
``neuralake api serve`` (2 workers) against ``catalog.sql(...).collect()`` in this process, then
the throughput of 8 concurrent clients, then the same SQL through ROAPI run directly on the
``neuralake roapi`` export (for comparison only: the API does not use it). Writes
``bench/api/results.md`` and ``results.json``; exits 1 if the API's median exceeds 1.25 times the
in-process time plus 2 ms of transfer.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.common import ensure_tpch, machine_info  # noqa: E402

POINT = "SELECT * FROM {t} WHERE o_orderkey = {k}"
AGG = "SELECT count(*) AS n, sum(o_totalprice) AS total FROM {t} WHERE o_orderyear = 1995"
TARGET_RATIO = 1.25
TRANSFER_MS = 2.0


def timed(fn: Callable[[int], None], n: int, warmup: int) -> list[float]:
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def paired(catalog: Any, client: httpx.Client, kind: str, sql: Callable[[str, str, int], str],
           args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    """In-process and API runs of the same queries, alternating so both see the same load; the
    API's ``Server-Timing`` says how much of its time the worker spent on the query."""
    times: dict[str, list[float]] = {"catalog.sql": [], "api": [], "api worker": []}
    for i in range(args.warmup + args.requests):
        text = sql(kind, "tpch.orders", i)
        sides = ["catalog.sql", "api"] if i % 2 else ["api", "catalog.sql"]
        for side in sides:
            t0 = time.perf_counter()
            if side == "api":
                r = client.post("/api/sql", content=text)
                assert r.status_code == 200, r.text
                assert r.json()["rows"], r.text
                worker = float(r.headers["server-timing"].split("dur=")[1])
            else:
                catalog.sql(text).collect()
            if i >= args.warmup:
                times[side].append((time.perf_counter() - t0) * 1000)
                if side == "api":
                    times["api worker"].append(worker)
    return {side: summary(t) for side, t in times.items()}


def summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)}  # fmt: skip


def throughput(base: str, body: Callable[[int], str], seconds: float, clients: int = 8) -> float:
    """Requests per second with ``clients`` concurrent keep-alive clients."""
    stop = time.monotonic() + seconds

    def loop(c: int) -> int:
        done = 0
        with httpx.Client(base_url=base, trust_env=False, timeout=60) as client:
            while time.monotonic() < stop:
                r = client.post("/api/sql", content=body(c * 100_000 + done))
                if r.status_code != 200:
                    raise RuntimeError(f"{r.status_code} {r.text}")
                done += 1
        return done

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(loop, range(clients)))
    return round(total / (time.monotonic() - t0), 1)


def start_api(lake: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NEURALAKE_DEMO_LAKE": str(lake),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuralake", "-c", "examples.tpch.catalog:catalog", "api", "serve",
         "--port", str(port), "--workers", "2", *extra],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"api serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/health", trust_env=False).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("api serve did not become healthy")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()

    lake = ensure_tpch(args.scale)
    os.environ["NEURALAKE_DEMO_LAKE"] = str(lake)  # read by the demo catalog module
    from examples.tpch.catalog import catalog

    keys = (catalog.table("tpch.orders", columns=["o_orderkey"]).collect()["o_orderkey"]
            .sample(500, seed=1).to_list())  # fmt: skip

    def sql(kind: str, table: str, i: int) -> str:
        return (POINT if kind == "point" else AGG).format(t=table, k=keys[i % len(keys)])

    results: dict[str, Any] = {"latency": {}, "throughput_rps": {}}
    proc, base = start_api(lake)
    try:
        with httpx.Client(base_url=base, trust_env=False, timeout=60) as client:
            for kind in ("point", "aggregate"):
                results["latency"][kind] = paired(catalog, client, kind, sql, args)
            rest = timed(
                lambda i: client.get("/api/tables/tpch.orders",
                                     params={"filter[o_orderkey]": str(keys[i % len(keys)])}),
                args.requests, args.warmup,
            )  # fmt: skip
            results["latency"]["point"]["api REST"] = summary(rest)
        for kind in ("point", "aggregate"):
            results["throughput_rps"][kind] = throughput(
                base, lambda i, k=kind: sql(k, "tpch.orders", i), args.seconds
            )
    finally:
        stop(proc)

    results["memory_bomb"] = memory_bomb(lake)
    results["roapi"] = roapi_latency(catalog, sql, args.requests, args.warmup)
    ok = True
    for kind in ("point", "aggregate"):
        cell = results["latency"][kind]
        limit = cell["catalog.sql"]["median_ms"] * TARGET_RATIO + TRANSFER_MS
        cell["ratio"] = round(cell["api"]["median_ms"] / cell["catalog.sql"]["median_ms"], 2)
        cell["pass"] = cell["api"]["median_ms"] <= limit
        ok = ok and cell["pass"]
    info = machine_info()
    where = f"{info.get('cores', os.cpu_count())} cores, {info.get('cpu', '')}"
    report = {"scale": args.scale, "requests": args.requests, "machine": info,
              "results": results, "pass": ok}  # fmt: skip
    (HERE / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# API latency and throughput",
        "",
        f"TPC-H scale {args.scale}; {args.requests} sequential requests per cell after "
        f"{args.warmup} warm-up, one keep-alive connection on 127.0.0.1; the API runs 2 query "
        f"workers. {where}.",
        "",
        "| query | path | median ms | p95 ms |",
        "|---|---|---:|---:|",
    ]
    for kind in ("point", "aggregate"):
        for path, r in results["latency"][kind].items():
            if isinstance(r, dict):
                lines.append(f"| {kind} | {path} | {r['median_ms']} | {r['p95_ms']} |")
        if kind in results["roapi"]:
            r = results["roapi"][kind]
            lines.append(
                f"| {kind} | ROAPI direct (comparison) | {r['median_ms']} | {r['p95_ms']} |"
            )
    lines += ["", "| query | API throughput, 8 concurrent clients |", "|---|---:|"]
    lines += [f"| {k} | {v} req/s |" for k, v in results["throughput_rps"].items()]
    bomb = results["memory_bomb"]
    lines += [
        "",
        f"Memory bomb (`{BOMB}`) on a server with `--memory-mb {BOMB_MB}`: answered "
        f"{bomb['status']} after {bomb['seconds']} s; peak resident memory of the server "
        f"{bomb['server_peak_mb']} MB and of its busiest worker {bomb['worker_peak_mb']} MB; the "
        f"next query was answered {bomb['next_status']} in {bomb['next_ms']} ms.",
    ]
    lines += [
        "",
        "API median vs in-process `catalog.sql(...).collect()`: "
        + ", ".join(f"{k} {results['latency'][k]['ratio']}x" for k in ("point", "aggregate"))
        + f" (target ≤ {TARGET_RATIO}x + {TRANSFER_MS:g} ms transfer): "
        + ("PASS" if ok else "FAIL") + ".",
        "",
        f"- point: `{POINT.format(t='tpch.orders', k='K')}`",
        f"- aggregate: `{AGG.format(t='tpch.orders')}`",
        "",
        "Reproduce: `python bench/api/run.py`.",
    ]  # fmt: skip
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


BOMB = "SELECT DISTINCT a.o_orderkey, b.o_orderkey AS k2 FROM tpch.orders a, tpch.orders b"
BOMB_MB = 1024


def memory_bomb(lake: Path) -> dict[str, Any]:
    """Resident memory of the server and its workers while a memory bomb runs and is stopped."""
    import threading

    def rss_mb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
        except OSError:
            return 0

    def children(pid: int) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    proc, base = start_api(lake, "--memory-mb", str(BOMB_MB))
    peaks = {"server": 0, "worker": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peaks["server"] = max(peaks["server"], rss_mb(proc.pid))
            for child in children(proc.pid):
                peaks["worker"] = max(peaks["worker"], rss_mb(child))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with httpx.Client(base_url=base, trust_env=False, timeout=120) as client:
            t0 = time.perf_counter()
            r = client.post("/api/sql", content=BOMB)
            seconds = round(time.perf_counter() - t0, 2)
            t1 = time.perf_counter()
            after = client.post("/api/sql", content="SELECT count(*) AS n FROM tpch.nation")
            next_ms = round((time.perf_counter() - t1) * 1000, 1)
    finally:
        done.set()
        sampler.join()
        stop(proc)
    return {"status": r.status_code, "seconds": seconds, "server_peak_mb": peaks["server"],
            "worker_peak_mb": peaks["worker"], "next_status": after.status_code,
            "next_ms": next_ms}  # fmt: skip


def roapi_latency(catalog: Any, sql: Callable[[str, str, int], str], n: int,
                  warmup: int) -> dict[str, Any]:  # fmt: skip
    """The same SQL through ROAPI on the export (names ``tpch_orders``), if the binary is here."""
    from neuralake.export.roapi import RoapiSkipWarning, plan_roapi
    from neuralake.export.roapi_process import RoapiError, RoapiProcess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoapiSkipWarning)
        plan = plan_roapi(catalog)
    try:
        proc = RoapiProcess(plan.to_dict())
        proc.start()
    except RoapiError as exc:
        return {"skipped": str(exc)}
    out = {}
    try:
        with httpx.Client(base_url=proc.url, trust_env=False, timeout=60) as client:
            for kind in ("point", "aggregate"):

                def one(i: int, k: str = kind) -> None:
                    r = client.post("/api/sql", content=sql(k, "tpch_orders", i))
                    assert r.status_code == 200, r.text

                out[kind] = summary(timed(one, n, warmup))
    finally:
        proc.close()
    return out


if __name__ == "__main__":
    raise SystemExit(main())
