"""Markdown summary and per-instance tables from the results_<series>.csv files that
compare.py writes (used to produce RESULTS.md).

    python benchmarks/fiber/summarize.py B C D E
"""

from __future__ import annotations

import csv
import statistics as st
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rows(series: str) -> list[dict]:
    with open(HERE / f"results_{series}.csv") as fh:
        return list(csv.DictReader(fh))


def summary_line(series: str) -> str:
    rows = _rows(series)
    f = lambda r, k: float(r[k])  # noqa: E731
    gap = [f(r, "ours_gap_pct") for r in rows]
    secs = [f(r, "ours_s") for r in rows]
    gk = [f(r, "kou_gap_pct") for r in rows]
    gm = [f(r, "mehlhorn_gap_pct") for r in rows]
    tk = [f(r, "kou_s") for r in rows]
    tm = [f(r, "mehlhorn_s") for r in rows]
    proven = sum(r["ours_status"] == "optimal" for r in rows)
    at_opt = sum(f(r, "ours_cost") == f(r, "optimum") for r in rows)
    best_nx = [min(f(r, "kou_cost"), f(r, "mehlhorn_cost")) for r in rows]
    strictly = sum(f(r, "ours_cost") < b for r, b in zip(rows, best_nx))
    no_worse = sum(f(r, "ours_cost") <= b for r, b in zip(rows, best_nx))
    cert = [100 * (f(r, "ours_cost") - f(r, "ours_lb")) / f(r, "ours_cost") for r in rows]
    return (f"| {series} | {len(rows)} | {at_opt} | {proven} | {st.mean(gap):.3f} | {max(gap):.2f} | "
            f"{st.mean(cert):.3f} | {st.median(secs):.3f} | {max(secs):.2f} | {st.mean(gk):.2f} / {st.mean(gm):.2f} | "
            f"{st.median(tk):.3f} / {st.median(tm):.3f} | {strictly} strictly, {no_worse} no worse |")


def table(series: str) -> str:
    out = ["| instance | optimum | ours cost | gap to opt % | ours LB | status | ours s | kou cost | kou gap % | "
           "kou s | mehlhorn cost | mehlhorn gap % | mehlhorn s |",
           "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in _rows(series):
        f = lambda k: float(r[k])  # noqa: E731
        out.append(f"| {r['instance']} | {f('optimum'):g} | {f('ours_cost'):g} | {f('ours_gap_pct'):.2f} | "
                   f"{f('ours_lb'):g} | {r['ours_status']} | {f('ours_s'):.2f} | {f('kou_cost'):g} | "
                   f"{f('kou_gap_pct'):.2f} | {f('kou_s'):.2f} | {f('mehlhorn_cost'):g} | "
                   f"{f('mehlhorn_gap_pct'):.2f} | {f('mehlhorn_s'):.3f} |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    series = argv or ["B", "C", "D"]
    print("| series | n | at published optimum | proven optimal | mean gap to optimum % | max gap % | "
          "mean certified gap % | median s | max s | networkx mean gap % (kou / mehlhorn) | "
          "networkx median s (kou / mehlhorn) | ours vs best networkx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for s in series:
        print(summary_line(s))
    for s in series:
        print(f"\n### Series {s}\n")
        print(table(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
