"""Pipeline benchmarks by phase and size (pytest-benchmark; collected from the package).

Phases: ``read`` (read_scenario), ``coverage`` (build_coverage, terrain on, after the
kernels are compiled), ``model`` (siting_inputs + build_siting_model), ``solve`` (the
siting MILP, one benchmark per peer on the *same* spec and time limit: siteplan's
adapter, HiGHS alone through scipy, CBC alone through PuLP), ``siting`` (the whole
``solve_siting`` as the pipeline calls it: structural checks + model + solve + read back),
``fiber`` (plan_fiber with the siting plan's new sites) and ``report`` (write_plan: every
output file). Sizes come from :mod:`siteplan.bench.profiles`.

Run from a checkout (``benchmarks/pipeline`` is a thin wrapper) or installed::

    SITEPLAN_BENCH_PROFILE=quick pytest --pyargs siteplan.bench.bench_pipeline --benchmark-disable
    siteplan bench --quick --out results.json

Quality goes into ``benchmark.extra_info``: objective, lower bound, gap, status, seconds,
time limit, model size (columns, rows, non-zeros) and the instance size.
"""

from __future__ import annotations

import math
import time
import warnings

import pytest

from siteplan.bench import profiles
from siteplan.bench.peers import PEERS, run_peer

__all__: list[str] = []

SIZES = profiles.sizes()
_CACHE: dict[str, dict] = {}


def _rounds(size: str) -> int:
    return 3 if size in ("tiny", "small") else 1


def _state(size: str) -> dict:
    """Everything the phases of ``size`` need, computed once (untimed) and cached."""
    st = _CACHE.setdefault(size, {})
    if "scenario" not in st:
        try:
            st["dir"] = profiles.instance_dir(size)
        except profiles.InstanceUnavailable as exc:
            pytest.skip(str(exc))
        from siteplan import read_scenario

        st["scenario"] = read_scenario(st["dir"])
    return st


def _coverage(st: dict):
    if "coverage" not in st:
        from siteplan import build_coverage

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st["coverage"] = build_coverage(st["scenario"], progress=False)
    return st["coverage"]


def siting_model(scenario, coverage):
    """The siting MILP exactly as :func:`siteplan.siting.solve_siting` builds it (targets of
    villages no site can cover excluded when the scenario says ``uncoverable = "exclude"``)."""
    from dataclasses import replace

    from siteplan.siting import build_siting_model, siting_inputs
    from siteplan.siting.diagnose import uncoverable_findings

    inp = siting_inputs(scenario, coverage)
    if inp.uncoverable == "exclude":
        _, masks = uncoverable_findings(inp)
        inp = replace(inp, targets=tuple(replace(t, exclude=m) for t, m in zip(inp.targets, masks)))
    return build_siting_model(inp)


def _model(st: dict):
    if "model" not in st:
        st["model"] = siting_model(st["scenario"], _coverage(st))
    return st["model"]


def _siting(st: dict, size: str):
    if "siting" not in st:
        from siteplan.siting import plan_sites

        st["siting"] = plan_sites(st["scenario"], _coverage(st), time_limit=profiles.time_limit(size))
    return st["siting"]


def _fiber(st: dict, size: str):
    if "fiber" not in st:
        from siteplan.fiber import plan_fiber

        sp = _siting(st, size)
        st["fiber"] = plan_fiber(st["scenario"], sp if sp.feasible else None,
                                 time_limit=profiles.fiber_time_limit(size))
    return st["fiber"]


def _size_info(st: dict) -> dict:
    sc = st["scenario"]
    info = {"villages": int(sc.villages.id.size), "sites": int(sc.sites.id.size),
            "candidates": int((~sc.sites.existing).sum())}
    if "coverage" in st:
        info["coverage_pairs"] = int(sum(m.nnz for m in st["coverage"].matrices.values()))
        info["demand_points"] = int(st["coverage"].shape[0])
    if "model" in st:
        spec = st["model"].spec
        info.update(model_columns=int(spec.n_cols), model_rows=int(spec.n_rows), model_nonzeros=int(spec.nnz))
    return info


_WARM: list[bool] = []


def _warm_kernels() -> None:
    """Compile (or load from numba's cache) the coverage and fiber kernels on the small
    preset, once per process, so that no timed round of a large size pays for it."""
    if _WARM:
        return
    from siteplan import read_scenario
    from siteplan.fiber import plan_fiber

    sc = read_scenario(profiles.instance_dir("small"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from siteplan import build_coverage

        build_coverage(sc, progress=False)
    if sc.roads.n_nodes:
        plan_fiber(sc, None)
    _WARM.append(True)


def _pedantic(benchmark, fn, size, setup=None):
    # small sizes: one untimed warm-up round (kernels only larger inputs reach compile there);
    # large sizes: the kernels were warmed on the small preset, and one round each
    if size in ("tiny", "small"):
        return benchmark.pedantic(fn, setup=setup, rounds=_rounds(size), iterations=1, warmup_rounds=1)
    _warm_kernels()
    return benchmark.pedantic(fn, setup=setup, rounds=1, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("size", SIZES)
def test_read(benchmark, size):
    st = _state(size)
    from siteplan import read_scenario

    benchmark.group = "pipeline-read"
    sc = _pedantic(benchmark, lambda: read_scenario(st["dir"]), size)
    assert sc.villages.id.size == st["scenario"].villages.id.size
    benchmark.extra_info.update(phase="read", size=size, **_size_info(st))


@pytest.mark.parametrize("size", SIZES)
def test_coverage(benchmark, size):
    st = _state(size)
    from siteplan import build_coverage

    _coverage(st)               # compiles the kernels (and caches the matrices for later phases)
    benchmark.group = "pipeline-coverage"

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build_coverage(st["scenario"], progress=False)

    cov = _pedantic(benchmark, run, size)
    assert cov.shape == st["coverage"].shape
    benchmark.extra_info.update(phase="coverage", size=size, **_size_info(st))


@pytest.mark.parametrize("size", SIZES)
def test_model(benchmark, size):
    st = _state(size)
    cov = _coverage(st)
    benchmark.group = "pipeline-model"
    m = _pedantic(benchmark, lambda: siting_model(st["scenario"], cov), size)
    _model(st)
    assert m.spec.nnz == st["model"].spec.nnz
    benchmark.extra_info.update(phase="model", size=size, **_size_info(st))


@pytest.mark.parametrize("peer", list(PEERS))
@pytest.mark.parametrize("size", SIZES)
def test_solve(benchmark, size, peer):
    """The siting MILP of ``size`` solved by ``peer`` on the same spec, limit and gap."""
    st = _state(size)
    spec = _model(st).spec
    limit = profiles.time_limit(size)
    benchmark.group = f"pipeline-solve-{size}"
    out = benchmark.pedantic(run_peer, args=(peer, spec, limit, 0.01), rounds=1, iterations=1)
    benchmark.extra_info.update(phase="solve", size=size, **out, **_size_info(st))
    # never a silent wrong answer: a reported solution satisfies the model, a bound never
    # passes the solution it bounds
    if out["status"] in ("optimal", "feasible"):
        assert out["feasible"]
        if math.isfinite(out["bound"]):
            assert out["bound"] <= out["objective"] + 1e-6 * max(1.0, abs(out["objective"]))
    if size in ("tiny", "small") and peer == "siteplan":
        assert out["status"] in ("optimal", "feasible"), out


@pytest.mark.parametrize("size", SIZES)
def test_siting(benchmark, size):
    """``plan_sites`` as the pipeline calls it (checks + model + solve + read back)."""
    st = _state(size)
    from siteplan.siting import plan_sites

    cov = _coverage(st)
    _model(st)
    limit = profiles.time_limit(size)
    benchmark.group = "pipeline-siting"
    t0 = time.perf_counter()
    plan = benchmark.pedantic(plan_sites, args=(st["scenario"], cov), kwargs={"time_limit": limit},
                              rounds=1, iterations=1)
    st["siting"] = plan
    benchmark.extra_info.update(phase="siting", size=size, objective=plan.objective, bound=plan.bound,
                                gap=plan.gap, status=plan.status, seconds=time.perf_counter() - t0,
                                time_limit_s=limit, new_sites=int((plan.site_phase >= 0).sum()),
                                new_stations=int(plan.station_site.size), **_size_info(st))
    if size in ("tiny", "small"):
        assert plan.feasible, plan.status


@pytest.mark.parametrize("size", SIZES)
def test_fiber(benchmark, size):
    st = _state(size)
    if not st["scenario"].roads.n_nodes:
        pytest.skip(f"{size} has no road graph")
    from siteplan.fiber import plan_fiber

    sp = _siting(st, size)
    sp = sp if sp.feasible else None
    limit = profiles.fiber_time_limit(size)
    benchmark.group = "pipeline-fiber"
    fp = _pedantic(benchmark, lambda: plan_fiber(st["scenario"], sp, time_limit=limit), size)
    st["fiber"] = fp
    info = {k: getattr(fp, k) for k in ("cost", "lower_bound", "gap", "status") if hasattr(fp, k)}
    info = {k: (float(v) if isinstance(v, (int, float)) else str(v)) for k, v in info.items()}
    benchmark.extra_info.update(phase="fiber", size=size, time_limit_s=limit, with_new_sites=sp is not None,
                                **info, **_size_info(st))


@pytest.mark.parametrize("size", SIZES)
def test_report(benchmark, size, tmp_path):
    st = _state(size)
    from siteplan.pipeline import Plan, write_plan

    sp = _siting(st, size)
    fp = _fiber(st, size) if st["scenario"].roads.n_nodes else None
    p = Plan(scenario=st["scenario"], coverage=_coverage(st), siting=sp, fiber=fp,
             options={"solver": "highs", "time_limit_s": profiles.time_limit(size), "gap": 0.01, "seed": 0,
                      "fiber": fp is not None}, timings={})
    benchmark.group = "pipeline-report"
    n = [0]

    def run():
        n[0] += 1
        return write_plan(p, tmp_path / f"out{n[0]}", force=True)

    out = _pedantic(benchmark, run, size)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert total > 0
    benchmark.extra_info.update(phase="report", size=size, bytes=total, **_size_info(st))
