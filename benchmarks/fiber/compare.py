"""Side-by-side table on SteinLib: ours vs networkx kou / mehlhorn (same input graph).

    PYTHONPATH=src python benchmarks/fiber/compare.py b01 b02 ...   # or --series B,C
    options: --out FILE.csv (written atomically), --no-networkx

Prints one markdown row per instance as soon as it is measured.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fiber_common import (  # noqa: E402
    TIME_LIMITS, gap, load, optima, run_networkx, run_ours, series_of, to_networkx, warm_up,
)

from siteplan.io.atomic import atomic_write_text  # noqa: E402

COLUMNS = ["instance", "optimum", "ours_cost", "ours_gap_pct", "ours_lb", "ours_status", "ours_s",
           "kou_cost", "kou_gap_pct", "kou_s", "mehlhorn_cost", "mehlhorn_gap_pct", "mehlhorn_s",
           "time_ratio_kou_over_ours"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--series", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-networkx", action="store_true")
    a = ap.parse_args(argv)
    opt = optima()
    names = list(a.names)
    if a.series:
        keep = {s.strip().upper() for s in a.series.split(",")}
        names += [n for n in sorted(opt) if n[0].upper() in keep]
    rows = []
    warm_up()
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for name in names:
        inst = load(name)
        o = opt[name]
        ours = run_ours(inst, TIME_LIMITS[series_of(name)])
        row = {"instance": name, "optimum": o, "ours_cost": ours["cost"],
               "ours_gap_pct": 100 * gap(ours["cost"], o), "ours_lb": ours["lower_bound"],
               "ours_status": ours["status"], "ours_s": ours["seconds"]}
        if not a.no_networkx:
            G = to_networkx(inst)
            for m in ("kou", "mehlhorn"):
                r = run_networkx(inst, m, G)
                row[f"{m}_cost"] = r["cost"]
                row[f"{m}_gap_pct"] = 100 * gap(r["cost"], o)
                row[f"{m}_s"] = r["seconds"]
            row["time_ratio_kou_over_ours"] = row["kou_s"] / max(ours["seconds"], 1e-9)
        rows.append(row)
        cells = []
        for c in COLUMNS:
            v = row.get(c, "")
            cells.append(f"{v:.3f}" if isinstance(v, float) and not c.endswith("cost") and c != "optimum"
                         and c != "ours_lb" else str(v))
        print("| " + " | ".join(cells) + " |", flush=True)
    if a.out:
        text = ",".join(COLUMNS) + "\n" + "\n".join(
            ",".join(str(r.get(c, "")) for c in COLUMNS) for r in rows) + "\n"
        atomic_write_text(a.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
