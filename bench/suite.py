"""Every benchmark, at growing sizes: ``make bench`` (10k, 100k, 1M) and ``make bench-quick``.

    .venv/bin/python -m bench.suite [--sizes 10000,100000,1000000] [--quick] [--no-record]

For each size: a throw-away PostgreSQL database gets a generated record; catch-up
is measured (ours, the stock runner, a raw batched INSERT); the database is
vacuumed and analysed, as autovacuum keeps a live one; then a real server
answers the read benchmark and its memory is read. Writes are measured once, on
the smallest size, after the read server has stopped: Waymark served with its
defaults against the minimal app of bench/minimal_app.py, on PostgreSQL and on
SQLite. Figures go to bench/results.json with their targets; no figure is
asserted here (``python -m bench.report --check`` says which targets are met).
"""

from __future__ import annotations

import argparse
import os
import time

from bench import catch_up, served
from bench.common import ADMIN_URL, Results, postgres_answers, settle, throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="5,000 events, few requests")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-writes", action="store_true", help="skip the write benchmark")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    sizes = [5_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    requests = 20 if args.quick else args.requests
    if not postgres_answers():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            raise SystemExit(f"PostgreSQL is required under CI but unreachable at {ADMIN_URL}")
        print(f"PostgreSQL unreachable at {ADMIN_URL}: benchmarks skipped")
        return
    results = Results(record=not args.no_record and not args.quick)
    print(f"Waymark benchmarks on {results.where}")
    try:
        for n, size in enumerate(sizes):
            started = time.perf_counter()
            print(f"-- {size:,} events", flush=True)
            with throwaway_database() as url:
                catch_up.run(
                    url,
                    size,
                    results,
                    stock_limit=500 if args.quick else 5_000,
                    each_alone=size < 1_000_000,
                )
                settle(url)
                with served.serve(url) as server:
                    served.measure_reads(server, url, size, results, requests)
                if n == 0 and not args.no_writes:
                    # Quick: PostgreSQL only, one turn each, to keep `make test` short.
                    served.measure_writes(
                        url,
                        size,
                        results,
                        per_client=10 if args.quick else 150,
                        clients=8,
                        sqlite=not args.quick,
                        token=server.token,
                        rounds=1 if args.quick else 2,
                    )
            print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        results.save()


if __name__ == "__main__":
    main()
