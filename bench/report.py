"""Summarise a Locust run: p50 / p95 / p99 per page, requests, failures, and 5xx answers.

    python bench/report.py bench/out/load_stats.csv bench/out/access*.log [--users 200 --duration 5m]

Reads Locust's ``--csv`` statistics and the access logs (gunicorn's, one per node, and the proxy's
in the two-node mode: 5xx are counted from what the servers answered, not only from what Locust
saw). Prints a Markdown table and exits non-zero when a target is missed: an error, a 5xx, or a
p95 of TARGET_P95_MS or more on any page.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

TARGET_P95_MS = 300
STATUS = re.compile(r'" (\d{3}) ')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stats", type=Path)
    parser.add_argument("access_logs", type=Path, nargs="*")
    parser.add_argument("--users", default="?")
    parser.add_argument("--duration", default="?")
    parser.add_argument("--web-workers", default="?")
    parser.add_argument("--nodes", default="1")
    args = parser.parse_args()

    rows = list(csv.DictReader(args.stats.open()))
    pages = [row for row in rows if row["Name"] != "Aggregated"]
    total = next(row for row in rows if row["Name"] == "Aggregated")
    statuses: dict[str, int] = {}
    for access_log in args.access_logs:
        if not access_log.exists():
            continue
        for line in access_log.open():
            match = STATUS.search(line)
            if match:
                key = f"{access_log.stem}:{match.group(1)}" if len(args.access_logs) > 1 else match.group(1)
                statuses[key] = statuses.get(key, 0) + 1
    server_errors = sum(count for status, count in statuses.items() if status.rsplit(":", 1)[-1].startswith("5"))

    nodes = "" if args.nodes == "1" else f" on each of {args.nodes} nodes behind nginx"
    print(f"Locust: {args.users} users for {args.duration}; gunicorn --workers {args.web_workers}{nodes}\n")
    print("| page | requests | failures | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    missed = []
    for row in sorted(pages, key=lambda r: r["Name"]):
        print(f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | {row['95%']} | "
              f"{row['99%']} | {float(row['Max Response Time']):.0f} |")
        if row["95%"] not in ("N/A", "") and float(row["95%"]) >= TARGET_P95_MS:
            missed.append(f"p95 of {row['Name']} is {row['95%']} ms")
    print(f"| **all** | {total['Request Count']} | {total['Failure Count']} | {total['50%']} | {total['95%']} | "
          f"{total['99%']} | {float(total['Max Response Time']):.0f} |")
    rate = float(total["Requests/s"])
    print(f"\n{rate:.1f} requests/s; errors: {total['Failure Count']}; "
          f"5xx answered: {server_errors}; statuses: {dict(sorted(statuses.items()))}")
    if int(total["Failure Count"]):
        missed.append(f"{total['Failure Count']} failed requests")
    if server_errors:
        missed.append(f"{server_errors} 5xx answers")
    print(f"Targets met: no error, no 5xx, p95 < {TARGET_P95_MS} ms on every page." if not missed
          else "Targets missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
