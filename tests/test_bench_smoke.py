"""The benchmark suite never rots: its quick profile's smallest cases run (untimed) and the
README generator renders what it was given, saying "not measured" for the rest.

Also the pieces the suite relies on: the scenario scaler and the log-log fit.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from siteplan.bench.peers import PEERS, run_peer, solution_check
from siteplan.bench.report import claims, render_readme
from siteplan.bench.scale import fit_exponent
from siteplan.generate import generate_scenario, scaled
from siteplan.io.scenario import read_scenario
from siteplan.optimize import MilpBuilder

ROOT = Path(__file__).resolve().parents[1]


def test_quick_profile_smallest_cases_run(tmp_path):
    """`siteplan bench --quick --benchmark-disable` on the pipeline at the tiny size: every
    phase and every peer runs, and the results JSON records each case."""
    out = tmp_path / "res.json"
    env = dict(os.environ, SITEPLAN_BENCH_SIZES="tiny", SITEPLAN_BENCH_CACHE=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-m", "siteplan", "bench", "--quick", "--benchmark-disable",
                        "--areas", "pipeline", "--out", str(out)], env=env, capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    res = json.loads(out.read_text())
    area = res["areas"]["pipeline"]
    assert area["ran"] and area["returncode"] == 0, area
    assert " passed" in area["summary"] and "failed" not in area["summary"], area["summary"]
    # 6 single-size phases + one solve per peer, all at the tiny size
    n_expected = 6 + len(PEERS)
    assert f"{n_expected} passed" in area["summary"], area["summary"]
    assert res["profile"] == "quick" and res["machine"]["cores"] >= 1
    text = render_readme(res, None, "res.json")
    assert "not measured" in text          # the other areas were not part of this run
    assert "| pipeline |" in text


def test_every_benchmark_folder_runs_untimed_in_its_quick_profile(tmp_path):
    """The benchmark folders outside the package (propagation, setcover, fiber, report, batch)
    never rot: their quick profile runs every case once with ``--benchmark-disable`` and none
    fails. (Where the shared OR-Library / SteinLib data is absent those cases skip, as they say.)"""
    out = tmp_path / "res.json"
    areas = ["propagation", "setcover", "fiber", "report", "batch"]
    env = dict(os.environ, SITEPLAN_BENCH_CACHE=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-m", "siteplan", "bench", "--quick", "--benchmark-disable",
                        "--areas", ",".join(areas), "--out", str(out)], env=env, capture_output=True, text=True,
                       timeout=900, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    res = json.loads(out.read_text())
    for a in areas:
        area = res["areas"][a]
        assert area["ran"] and area["returncode"] == 0, (a, area.get("tail"))
        assert " passed" in area["summary"] and "failed" not in area["summary"], (a, area["summary"])


def test_select_runs_only_the_matching_cases(tmp_path):
    """`--select` (pytest -k) narrows every area; an area it matches nothing in still counts as
    run without failure, and nothing else is measured."""
    out = tmp_path / "res.json"
    env = dict(os.environ, SITEPLAN_BENCH_SIZES="tiny", SITEPLAN_BENCH_CACHE=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-m", "siteplan", "bench", "--quick", "--benchmark-disable",
                        "--areas", "pipeline", "-k", "test_read", "--out", str(out)], env=env,
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    area = json.loads(out.read_text())["areas"]["pipeline"]
    assert area["select"] == "test_read"
    assert "1 passed" in area["summary"] and "deselected" in area["summary"], area["summary"]
    assert [b["name"] for b in area["benchmarks"]] in ([], ["test_read[tiny]"])
    p = subprocess.run([sys.executable, "-m", "siteplan", "bench", "--quick", "--benchmark-disable",
                        "--areas", "pipeline", "-k", "no_such_case", "--out", str(out)], env=env,
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    area = json.loads(out.read_text())["areas"]["pipeline"]
    assert area["returncode"] == 0 and "deselected" in area["summary"], area


def _toy_results(with_setcover: bool) -> dict:
    sc = []
    if with_setcover:
        for who, cost, secs, status in (("siteplan", 512.0, 1.0, "optimal"), ("highs", 512.0, 4.0, "optimal"),
                                        ("cbc", 515.0, 8.0, "feasible")):
            sc.append({"name": f"test_solve[scp41-{who}]", "params": {"name": "scp41", "who": who},
                       "stats": {"median": secs},
                       "extra_info": {"instance": "scp41", "who": who, "cost": cost, "bound": 512.0, "status": status,
                                      "seconds": secs, "best_known": 512.0, "limit": 5.0,
                                      "excess_pct": 100 * (cost - 512) / 512}})
    return {"profile": "quick", "machine": {"cores": 2, "usable_cores": 2},
            "areas": {"setcover": {"ran": True, "returncode": 0, "benchmarks": sc}} if with_setcover else {},
            "scale": []}


def test_claims_ratio_and_verdict_come_from_the_results():
    rows = claims(_toy_results(True))
    grp = next(r for r in rows if r["issue"] == 4 and r["claim"].startswith("4, 5, 6"))
    # 1 of 50 instances: judged on the subset; HiGHS median 4 s / ours 1 s = 4x
    assert grp["met"] == "yes (subset)"
    assert "highs/siteplan 4.00×" in grp["ratio"] and "cbc/siteplan 8.00×" in grp["ratio"]
    never = next(r for r in rows if r["claim"].startswith("never a worse"))
    assert never["met"] == "yes" and "worse in 0 of 2" in never["ours"]
    # everything else was not run: every other claim says so
    others = [r for r in rows if r["issue"] != 4]
    assert others and all(r["met"] == "not measured" for r in others), [r for r in others if r["met"] != "not measured"]


def test_setcover_groups_and_per_group_median():
    """Instance names map to their OR-Library group (scp410 is group 4, not "41"), and the
    group claim fails when one group's median is above 2 s even if the overall median is not."""
    from siteplan.bench.report import _group_of

    assert [_group_of(n) for n in ("scp41", "scp410", "scp510", "scp65", "scpa1", "scpnre1", "scpnrh5",
                                   "rail507")] == ["4", "4", "5", "6", "A", "NRE", "NRH", "RAIL"]
    res = _toy_results(False)
    sc = []
    for name, secs in (("scp41", 0.1), ("scp410", 0.1), ("scp51", 0.1), ("scpd1", 5.0)):
        for who, t in (("siteplan", secs), ("highs", 2 * secs)):
            sc.append({"name": f"test_solve[{name}-{who}]", "params": {"name": name, "who": who},
                       "stats": {"median": t},
                       "extra_info": {"instance": name, "who": who, "cost": 10.0, "bound": 10.0, "status": "optimal",
                                      "seconds": t, "best_known": 10.0, "limit": 20.0, "excess_pct": 0.0}})
    res["areas"]["setcover"] = {"ran": True, "returncode": 0, "benchmarks": sc}
    grp = next(r for r in claims(res) if r["issue"] == 4 and r["claim"].startswith("4, 5, 6"))
    assert "median 0.1 s" in grp["ours"]                   # overall median of the four instances
    assert grp["met"] == "no (subset)" and "above 2 s: D" in grp["note"], grp


def test_claims_all_not_measured_without_results():
    rows = claims(_toy_results(False))
    assert rows and all(r["met"] == "not measured" for r in rows)
    assert {r["issue"] for r in rows} == {3, 4, 5, 6}


def test_fit_exponent_recovers_a_power_law():
    x = np.array([1e3, 2e3, 4e3, 8e3])
    b, a = fit_exponent(x, 3.0 * x ** 1.5)
    assert b == pytest.approx(1.5, abs=1e-9) and math.exp(a) == pytest.approx(3.0, rel=1e-9)
    assert math.isnan(fit_exponent([1.0], [2.0])[0])


def _knapsack_cover():
    # min 3a + 2b + 4c  s.t.  a + b >= 1, b + c >= 1, a + c >= 1 (binary): optimum 5 (a, b)
    b = MilpBuilder("min")
    x = b.add_columns("x", 3, cost=np.array([3.0, 2.0, 4.0]), upper=1.0, integer=True)
    b.add_rows("cover", np.array([0, 2, 4, 6]), x.index(np.array([0, 1, 1, 2, 0, 2])), np.ones(6), lower=1.0)
    return b.build()


@pytest.mark.parametrize("peer", list(PEERS))
def test_every_peer_solves_the_same_spec(peer):
    spec = _knapsack_cover()
    out = run_peer(peer, spec, 10.0, 0.0)
    assert out["status"] == "optimal" and out["feasible"]
    assert out["objective"] == pytest.approx(5.0)        # by enumeration of the 8 points, in the comment above
    assert solution_check(spec, np.array([1.0, 0.0, 0.0])) == (False, 3.0)


def test_scaled_doubles_villages_and_candidates(tmp_path):
    src = generate_scenario("tiny", 0, tmp_path / "tiny")
    a = scaled(src, 2, 7, tmp_path / "x2a")
    b = scaled(src, 2, 7, tmp_path / "x2b")
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f       # same seed, same files
    s0, s2 = read_scenario(src), read_scenario(a)                      # the reader accepts it
    assert s2.villages.id.size == 2 * s0.villages.id.size
    assert (~s2.sites.existing).sum() == 2 * (~s0.sites.existing).sum()
    assert s2.sites.existing.sum() == s0.sites.existing.sum()
    assert s2.roads.n_nodes == s0.roads.n_nodes + s0.villages.id.size
    # every copy lies within the original bounding box, 300-2000 m from its original
    lon0, lat0 = s0.villages.lon, s0.villages.lat
    lon2, lat2 = s2.villages.lon[lon0.size:], s2.villages.lat[lon0.size:]
    assert lon2.min() >= min(lon0.min(), s0.sites.lon.min()) - 1e-9
    d = np.hypot((s2.villages.x_m[lon0.size:] - s0.villages.x_m), (s2.villages.y_m[lon0.size:] - s0.villages.y_m))
    assert np.all(d <= 2000.0 * 1.01)
    assert "scaled x2" in " ".join(s2.synthetic if hasattr(s2, "synthetic") else [(a / "scenario.toml").read_text()])


def test_scaled_rejects_bad_factor(tmp_path):
    from siteplan.exceptions import ScenarioError

    src = generate_scenario("tiny", 0, tmp_path / "tiny")
    with pytest.raises(ScenarioError, match="factor"):
        scaled(src, 0, 0, tmp_path / "bad")
    with pytest.raises(ScenarioError, match="factor"):
        scaled(src, 1.5, 0, tmp_path / "bad")


def _sleeps_in_a_grandchild(spec, time_limit, gap):
    subprocess.run(["sleep", "60"])
    return {}


def test_peer_watchdog_kills_an_overrunning_solver_and_its_children(monkeypatch):
    from siteplan.bench import peers

    monkeypatch.setattr(peers, "WATCHDOG_FACTOR", 1.0)
    monkeypatch.setattr(peers, "WATCHDOG_GRACE_S", 0.5)
    out = peers._watched(_sleeps_in_a_grandchild)(None, 0.5, 0.0)
    assert out["status"] == "killed" and out["seconds"] < 30 and not out["feasible"]
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 60" not in ps


def test_scale_claim_not_judged_when_a_size_stops_at_its_limit():
    """A siting time that is the time limit says nothing about scaling: the claim is then
    not judged, however flat the fitted exponent; with every size proven well within its
    limit the exponent decides."""
    res = _toy_results(False)
    res["scale"] = [
        {"size": "shantou-2016", "model_nonzeros": 4e5, "siting_s": 50.0, "time_limit_s": 120.0, "status": "optimal",
         "gap": 0.0, "total_s": 60.0},
        {"size": "shantou-x2", "model_nonzeros": 8e5, "siting_s": 100.0, "time_limit_s": 240.0, "status": "optimal",
         "gap": 0.0, "total_s": 120.0},
        {"size": "shantou-x4", "model_nonzeros": 1.6e6, "siting_s": 300.0, "time_limit_s": 300.0,
         "status": "feasible", "gap": 0.011, "total_s": 320.0},
    ]
    row = next(r for r in claims(res) if r["claim"].startswith("scale curve"))
    assert row["met"].startswith("not judged") and "shantou-x4" in row["met"], row
    res["scale"] = res["scale"][:2]
    row = next(r for r in claims(res) if r["claim"].startswith("scale curve"))
    assert row["met"] == "yes" and "nnz^1.00" in row["ours"], row


def test_setcover_detail_says_when_the_heuristics_found_the_final_cost():
    from siteplan.bench.report import _final_cost_found, _setcover_detail

    # trajectory (seconds from the heuristics' start, cost): the final cost 63 first at 4.0 s
    assert _final_cost_found({"cost": 63.0, "heuristic_trajectory": [[0.1, 70.0], [4.0, 63.0], [9.0, 63.0]]}) \
        == "4 s"
    # a final cost below every heuristic cover came from a MILP phase
    assert _final_cost_found({"cost": 62.0, "heuristic_trajectory": [[0.1, 70.0], [4.0, 63.0]]}) == "MILP"
    # peers record no trajectory
    assert _final_cost_found({"cost": 64.0}) == "–"
    res = _toy_results(True)
    res["areas"]["setcover"]["benchmarks"][0]["extra_info"]["heuristic_trajectory"] = [[0.25, 530.0], [0.5, 512.0]]
    table = _setcover_detail(res)
    assert "final cost found by the heuristics at" in table.splitlines()[0]
    assert "| scp41 | siteplan |" in table and table.splitlines()[2].endswith("| 0.5 s |")
