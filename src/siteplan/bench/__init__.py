"""The benchmark suite's shared machinery (ships with the package so ``siteplan bench``
runs from an installed copy).

- :mod:`siteplan.bench.profiles` — ``SITEPLAN_BENCH_PROFILE=quick|full``, sizes, limits,
  instances (tiny, small, Shantou-2016, Shantou x2 and x4).
- :mod:`siteplan.bench.peers` — the same MILP spec solved by siteplan's adapter, HiGHS
  alone (scipy) and CBC alone (PuLP).
- :mod:`siteplan.bench.bench_pipeline` — pytest-benchmark cases by phase and size.
- :mod:`siteplan.bench.scale` — time and peak memory per size, one subprocess each.
- :mod:`siteplan.bench.machine` — CPU, cores, load, library versions.
- :mod:`siteplan.bench.runner` — runs every benchmark folder into one results JSON.
- :mod:`siteplan.bench.report` — ``benchmarks/README.md`` tables and the scale-curve figure.

Importing this package imports no solver and no pytest.
"""

__all__: list[str] = []
