"""Pipeline benchmarks by phase and size: a thin wrapper around the cases shipped in the
package (:mod:`siteplan.bench.bench_pipeline`), so ``siteplan bench`` runs the same code
from an installed copy.

    SITEPLAN_BENCH_PROFILE=quick pytest benchmarks/pipeline --benchmark-disable   # smoke
    SITEPLAN_BENCH_PROFILE=full  pytest benchmarks/pipeline --benchmark-json=pipeline.json
"""

# imported in pipeline order: pytest runs them in this order
from siteplan.bench.bench_pipeline import test_read  # noqa: F401
from siteplan.bench.bench_pipeline import test_coverage  # noqa: F401
from siteplan.bench.bench_pipeline import test_model  # noqa: F401
from siteplan.bench.bench_pipeline import test_solve  # noqa: F401
from siteplan.bench.bench_pipeline import test_siting  # noqa: F401
from siteplan.bench.bench_pipeline import test_fiber  # noqa: F401
from siteplan.bench.bench_pipeline import test_report  # noqa: F401
