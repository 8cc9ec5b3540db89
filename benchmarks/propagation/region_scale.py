"""Coverage matrices of a Shantou-sized synthetic region, all operators, terrain on:
wall time after the first compile and peak memory (ru_maxrss). Standalone so that the
peak memory is this run's own.

    PYTHONPATH=src python benchmarks/propagation/region_scale.py [--quick] [--scenario DIR]

With ``--scenario DIR`` the real scenario folder is read and ``build_coverage`` runs on
it instead (e.g. the generated Shantou-2016 scenario).
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data import hilly_dem  # noqa: E402

from siteplan.coverage import BandParams, LinkParams, TerrainGrid, coverage_csr  # noqa: E402

# Operators of the reference file's band table (rural layers), RS EIRP 31-32 dBm.
OPERATORS = {
    "China Mobile": (BandParams(900.0, 32.0, "auto", "B8"), BandParams(1900.0, 32.0, "auto", "B39 F")),
    "China Unicom": (BandParams(1800.0, 32.0, "auto", "B3"),),
    "China Telecom": (BandParams(850.0, 32.0, "auto", "B5"), BandParams(1800.0, 32.0, "auto", "B3")),
}


def synthetic(quick):
    side = 12_000.0 if quick else 47_000.0          # 47 km x 47 km = 2,209 km2 (Shantou ~2,200)
    cell = 30.0
    n = int(side / cell)
    dem = hilly_dem(n, n, seed=5)
    rng = np.random.default_rng(6)
    n_p, n_s = (400, 150) if quick else (5_000, 3_000)
    return (TerrainGrid(dem, 0.0, side, cell), rng.uniform(0, side, (n_p, 2)),
            rng.uniform(0, side, (n_s, 2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scenario", default=None)
    a = ap.parse_args()
    if a.scenario:
        import siteplan

        sc = siteplan.read_scenario(a.scenario)
        siteplan.build_coverage(sc, operators=[sc.operator_names[0]], progress=False)  # compile
        t0 = time.perf_counter()
        cm = siteplan.build_coverage(sc, progress=False)
        wall = time.perf_counter() - t0
        out = {"scenario": sc.name, "seconds": round(wall, 2), **cm.summary(),
               "per_operator": cm.info}
    else:
        t, pts, sites = synthetic(a.quick)
        h = np.full(len(sites), 35.0)
        warm = LinkParams(bands=OPERATORS["China Unicom"], max_range_m=30_000.0)
        coverage_csr(sites[:3, 0], sites[:3, 1], h[:3], pts[:20, 0], pts[:20, 1], warm, t)
        out = {"sites": len(sites), "points": len(pts), "dem": list(t.elevation_m.shape),
               "operators": {}}
        t0 = time.perf_counter()
        for name, bands in OPERATORS.items():
            p = LinkParams(bands=bands, threshold_dbm=-110.0, max_range_m=30_000.0)
            t1 = time.perf_counter()
            m, info = coverage_csr(sites[:, 0], sites[:, 1], h, pts[:, 0], pts[:, 1], p, t)
            out["operators"][name] = {"seconds": round(time.perf_counter() - t1, 2),
                                      "candidates": int(info["n_candidates"]),
                                      "pairs": int(m.nnz),
                                      "max_radius_m": round(float(info["radius_m"].max()))}
        out["seconds"] = round(time.perf_counter() - t0, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
