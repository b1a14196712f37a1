"""Guard overhead benchmark: requests/second and latency through the guard vs ROAPI directly.

    python bench/api/run.py [--scale 0.1] [--requests 300] [--warmup 30]

Generates the TPC-H demo lake (examples/tpch) in a temporary folder, then measures two queries
sequentially over one keep-alive connection on 127.0.0.1:

- point: ``GET /api/tables/tpch_orders?filter[o_orderkey]=K&limit=1`` (K varies)
- aggregate: ``POST /api/sql`` with a count/sum over one ``o_orderyear`` partition

against the guard (``bench/api/serve_guard.py``, the app ``neuralake api serve`` runs) and
directly against the guard's own ROAPI child, alternating requests so both see the same load. Writes ``bench/api/results.md`` and ``results.json``; exits 1 if the guard adds
more than 20% at the median.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AGG = (
    "SELECT count(*) AS n, sum(o_totalprice) AS total FROM tpch_orders "
    "WHERE o_orderyear = 1995 LIMIT 10000"
)
MAX_OVERHEAD = 0.20


def request(client: httpx.Client, kind: str, i: int, keys: list[int]) -> float:
    """One request; returns its latency in milliseconds."""
    t0 = time.perf_counter()
    if kind == "point":
        r = client.get("/api/tables/tpch_orders",
                       params=[("filter[o_orderkey]", str(keys[i % len(keys)])), ("limit", "1")])  # fmt: skip
        ok = r.status_code == 200 and len(r.json()) == 1
    else:
        r = client.post("/api/sql", content=AGG)
        ok = r.status_code == 200 and r.json()[0]["n"] > 0
    if not ok:
        raise RuntimeError(f"{kind} request failed: {r.status_code} {r.text}")
    return (time.perf_counter() - t0) * 1000


def summary(times: list[float]) -> dict[str, Any]:
    times = sorted(times)
    n = len(times)
    return {
        "requests": n,
        "rps": round(1000 * n / sum(times), 1),
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (n - 1))], 3),
    }


def measure(
    clients: dict[str, httpx.Client], kind: str, n: int, warmup: int, keys: list[int]
) -> dict[str, dict[str, Any]]:
    """Alternate direct and guarded requests so both see the same machine load."""
    for i in range(warmup):
        for c in clients.values():
            request(c, kind, i, keys)
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for i in range(n):
        for name in order if i % 2 == 0 else reversed(order):
            times[name].append(request(clients[name], kind, i, keys))
    return {name: summary(t) for name, t in times.items()}


def wait_health(base: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"api serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/health", trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("api serve did not become healthy")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "src"))

    with tempfile.TemporaryDirectory(prefix="neuralake-bench-api-") as tmp:
        lake = Path(tmp) / "lake"
        os.environ["NEURALAKE_DEMO_LAKE"] = str(lake)  # read by the demo catalog module
        from examples.tpch.generate import generate

        generate(lake, scale=args.scale)
        from examples.tpch.catalog import catalog

        from neuralake.api.process import free_port

        keys = (
            catalog.table("tpch.orders", columns=["o_orderkey"]).collect()["o_orderkey"]
            .sample(200, seed=1).to_list()
        )  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}
        serve = subprocess.Popen(
            [sys.executable, str(HERE / "serve_guard.py"), str(port), str(Path(tmp) / "snap")],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        results: dict[str, Any] = {"direct": {}, "guard": {}}
        try:
            assert serve.stdout is not None
            line = serve.stdout.readline().decode()
            if not line.startswith("ROAPI "):
                raise SystemExit(f"guard did not start: {line!r}")
            wait_health(base, serve)
            with httpx.Client(base_url=line.split()[1], trust_env=False) as direct, \
                    httpx.Client(base_url=base, trust_env=False) as guarded:  # fmt: skip
                for kind in ("point", "aggregate"):
                    cell = measure({"direct": direct, "guard": guarded}, kind,
                                   args.requests, args.warmup, keys)  # fmt: skip
                    for path, r in cell.items():
                        results[path][kind] = r
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait(5)

    overhead = {
        k: round(results["guard"][k]["median_ms"] / results["direct"][k]["median_ms"] - 1, 4)
        for k in ("point", "aggregate")
    }
    ok = all(v <= MAX_OVERHEAD for v in overhead.values())
    report = {
        "scale": args.scale,
        "requests": args.requests,
        "warmup": args.warmup,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
        "results": results,
        "median_overhead": overhead,
        "max_overhead": MAX_OVERHEAD,
        "pass": ok,
    }
    (HERE / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# API guard overhead",
        "",
        f"TPC-H scale {args.scale}, {args.requests} sequential requests per cell after "
        f"{args.warmup} warm-up; direct and guarded requests alternate against the same ROAPI "
        f"process (keep-alive httpx connections on 127.0.0.1). {report['machine']}.",
        "",
        "| query | path | req/s | median ms | p95 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for k in ("point", "aggregate"):
        for path in ("direct", "guard"):
            r = results[path][k]
            lines.append(f"| {k} | {path} | {r['rps']} | {r['median_ms']} | {r['p95_ms']} |")
    lines += [
        "",
        "Median overhead of the guard: "
        + ", ".join(f"{k} {v:+.1%}" for k, v in overhead.items())
        + f" (limit {MAX_OVERHEAD:.0%}): {'PASS' if ok else 'FAIL'}.",
        "",
        "- point: `GET /api/tables/tpch_orders?filter[o_orderkey]=K&limit=1`",
        f"- aggregate: `POST /api/sql` `{AGG}`",
        "",
        "Reproduce: `python bench/api/run.py`.",
    ]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
