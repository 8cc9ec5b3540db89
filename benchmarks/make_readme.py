"""Regenerate benchmarks/README.md and benchmarks/scale_curve.png from a results JSON.

    siteplan bench --quick --out results.json        # or --full; or python -m siteplan.bench.runner
    python benchmarks/make_readme.py results.json    # = python -m siteplan.bench.report results.json

All the logic lives in :mod:`siteplan.bench.report` (shipped with the package).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from siteplan.bench.report import main  # noqa: E402

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    args = sys.argv[1:]
    if "--readme" not in args:
        args += ["--readme", str(here / "README.md")]
    raise SystemExit(main(args))
