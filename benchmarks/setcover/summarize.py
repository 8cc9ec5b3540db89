"""Per-group table (proven, at best known, median / max seconds, worst excess and gap) from
the ``JSON {...}`` lines that compare.py writes to stderr.

    python benchmarks/setcover/compare.py siteplan highs cbc 2> runs.log
    python benchmarks/setcover/summarize.py runs.log [more.log ...]
    python benchmarks/setcover/summarize.py --instances runs.log ...   # one row per instance
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys


def group_of(name: str) -> str:
    if name.startswith("rail"):
        return "RAIL"
    m = re.match(r"scp(nr[efgh]|[a-e]|\d)", name)
    return m.group(1).upper() if m else name


def rows(paths):
    out = {}
    for path in paths:
        with open(path) as fh:
            for line in fh:
                if line.startswith("JSON "):
                    r = json.loads(line[5:])
                    out[(r["instance"], r["who"])] = r  # a later run of the same pair wins
    return list(out.values())


def main(paths):
    table: dict = {}
    for r in rows(paths):
        table.setdefault((group_of(r["instance"]), r["who"]), []).append(r)
    print("| group | contender | instances | proven optimal | at best known | median s | max s "
          "| worst excess % | worst final gap % |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (g, who), rs in sorted(table.items(), key=lambda kv: (kv[0][0].zfill(4), kv[0][1])):
        secs = [r["seconds"] for r in rs]
        gaps = [100 * (r["cost"] - r["bound"]) / r["cost"] if math.isfinite(r["cost"]) and r["cost"] else math.inf
                for r in rs]
        print(f"| {g} | {who} | {len(rs)} | {sum(r['status'] == 'optimal' for r in rs)} | "
              f"{sum(abs(r['cost'] - r['best_known']) < 1e-6 for r in rs)} | {statistics.median(secs):.2f} | "
              f"{max(secs):.2f} | {max(r['excess_pct'] for r in rs):.2f} | {max(gaps):.2f} |")


def per_instance(paths):
    rs = rows(paths)
    who_list = list(dict.fromkeys(r["who"] for r in rs))
    by = {(r["instance"], r["who"]): r for r in rs}
    names = list(dict.fromkeys(r["instance"] for r in rs))
    print("| instance | best known | limit s | " + " | ".join(who_list) + " |")
    print("|---|---|---|" + "---|" * len(who_list))
    for name in names:
        cells = []
        for who in who_list:
            r = by.get((name, who))
            if r is None:
                cells.append("—")
                continue
            tail = "" if r["status"] == "optimal" else f" ({r['status']})"
            cells.append(f"{r['cost']:g} / {r['bound']:.4g} / {r['seconds']:.1f}{tail}")
        any_r = next(by[(name, w)] for w in who_list if (name, w) in by)
        print(f"| {name} | {any_r['best_known']:g} | {any_r['limit']:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--instances"]:
        per_instance(sys.argv[2:])
    else:
        main(sys.argv[1:])
