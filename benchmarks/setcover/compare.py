"""Print a markdown table of siteplan vs HiGHS vs CBC (same instances and limits as the benchmark).

    SITEPLAN_BENCH_PROFILE=4,5,6 python benchmarks/setcover/compare.py [contender ...]
"""

from __future__ import annotations

import json
import sys

from common import CONTENDERS, instances, run_contender

from siteplan.optimize.setcover import warm_up

if __name__ == "__main__":
    # kernels compiled (or loaded from numba's cache) outside the timed runs
    print(f"<!-- set-cover kernels ready after {warm_up():.2f} s (not timed) -->", flush=True)
    who_list = sys.argv[1:] or CONTENDERS
    print("| instance | best known | contender | limit [s] | cost | bound | status | seconds | excess % |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in instances():
        for who in who_list:
            r = run_contender(name, who)
            print(f"| {name} | {r['best_known']:g} | {who} | {r['limit']:g} | {r['cost']:g} | {r['bound']:.2f} | "
                  f"{r['status']} | {r['seconds']:.2f} | {r['excess_pct']:.2f} |", flush=True)
            print("JSON " + json.dumps(r), file=sys.stderr, flush=True)
