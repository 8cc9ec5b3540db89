"""Steiner trees on SteinLib: ours vs networkx ``approximation.steiner_tree`` (kou and
mehlhorn) on the same instances. Quality goes to ``extra_info`` (cost, published optimum,
gap); the benchmark time is one solve.

    SITEPLAN_BENCH_PROFILE=quick pytest benchmarks/fiber --benchmark-disable   # seconds
    SITEPLAN_BENCH_PROFILE=full  pytest benchmarks/fiber                        # B, C, D, E
"""

from __future__ import annotations

import pytest

from fiber_common import (
    STEINLIB, TIME_LIMITS, gap, instances, load, optima, run_networkx, run_ours, series_of, warm_up,
)

pytestmark = pytest.mark.skipif(not (STEINLIB / "B").is_dir(), reason=f"SteinLib not found under {STEINLIB}")

OPT = optima()
NAMES = instances()


@pytest.fixture(scope="module", autouse=True)
def _warm():
    warm_up()


@pytest.mark.parametrize("name", NAMES)
def test_ours(benchmark, name):
    inst = load(name)
    limit = TIME_LIMITS[series_of(name)]
    benchmark.group = f"steiner-{name}"
    out = benchmark.pedantic(run_ours, args=(inst, limit), rounds=1, iterations=1)
    opt = OPT[name]
    benchmark.extra_info.update(cost=out["cost"], optimum=opt, gap_to_optimum=gap(out["cost"], opt),
                                lower_bound=out["lower_bound"], status=out["status"])
    assert out["lower_bound"] <= opt <= out["cost"]


@pytest.mark.parametrize("method", ["kou", "mehlhorn"])
@pytest.mark.parametrize("name", NAMES)
def test_networkx(benchmark, name, method):
    inst = load(name)
    benchmark.group = f"steiner-{name}"
    out = benchmark.pedantic(run_networkx, args=(inst, method), rounds=1, iterations=1)
    opt = OPT[name]
    benchmark.extra_info.update(cost=out["cost"], optimum=opt, gap_to_optimum=gap(out["cost"], opt))
    assert out["cost"] >= opt
