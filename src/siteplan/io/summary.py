"""A one-screen text summary of a scenario (what ``siteplan validate`` prints)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from siteplan.model.scenario import Scenario

__all__ = ["scenario_summary"]


def scenario_summary(s: Scenario) -> str:
    """Counts by district, poor villages, sites by kind, terrain, phase quotas, encodings."""
    v = s.villages
    m = s.manifest
    lines = [f"scenario {s.name!r}  ({s.source})",
             f"  local CRS {s.crs}; input CRS {m.input_crs}"]
    if m.synthetic:
        lines.append(f"  synthetic parts: {', '.join(m.synthetic)}")
    n_syn = int(v.synthetic.sum())
    lines.append(f"villages: {len(v)} ({int(v.poor.sum())} poor, {int(v.rural.sum())} rural, "
                 f"{n_syn} with synthetic location), population {int(v.population.sum()):,}")
    by_d = Counter(v.district.tolist())
    poor_d = Counter(v.district[v.poor].tolist())
    towns = {(d, t) for d, t in zip(v.district.tolist(), v.town.tolist())}
    lines.append(f"  {len(by_d)} districts, {len(towns)} towns")
    width = max((len(d) for d in by_d), default=8)
    for d in sorted(by_d):
        lines.append(f"    {d:<{width}}  {by_d[d]:5d} villages  {poor_d.get(d, 0):4d} poor")
    lines.append(f"demand points: {len(s.demand)}" + (" (generated around villages)" if s.demand.generated else ""))
    st = s.sites
    n_ex = int(st.existing.sum())
    free = int(np.clip(st.free_tenancy[st.existing], 0, None).sum())
    lines.append(f"sites: {len(st)} ({n_ex} existing with {int(st.n_tenants.sum())} stations and {free} free "
                 f"tenant slots, {len(st) - n_ex} candidates)")
    if len(s.facilities):
        fk = Counter(s.facilities.kind.tolist())
        lines.append("facilities: " + ", ".join(f"{k} {fk[k]}" for k in sorted(fk)))
    if s.roads.n_nodes:
        lines.append(f"roads: {s.roads.n_nodes} nodes ({int(s.roads.pop.sum())} points of presence), "
                     f"{s.roads.n_edges} edges, {s.roads.length_m.sum() / 1000:.1f} km")
    if s.terrain is not None:
        t = s.terrain
        z = t.elevation_m
        lines.append(f"terrain: {t.nx} x {t.ny} cells of {t.cell_m:g} m "
                     f"({t.nx * t.cell_m / 1000:.1f} x {t.ny * t.cell_m / 1000:.1f} km), "
                     f"elevation {float(z.min()):.0f} .. {float(z.max()):.0f} m")
    else:
        lines.append("terrain: none (flat earth)")
    lines.append("operators: " + "; ".join(
        f"{o.name} [" + ", ".join(f"{b.name} {b.frequency_mhz:g} MHz" for b in o.bands) + f"] >= {o.threshold_dbm:g} dBm"
        for o in s.operators))
    lines.append("phases:")
    for p in s.phases:
        tg = ", ".join(
            (f"cover {t.villages} villages" if t.kind == "coverage" else
             f"fiber to {'/'.join(t.facilities)} in {t.villages} villages") for t in p.targets)
        lines.append(f"  {p.name:<8} {p.start} .. {p.end}  new stations {p.new_stations or '-'}, "
                     f"new sites {p.new_sites or '-'}" + (f", budget {p.budget_cny:,.0f} CNY" if p.budget_cny else "")
                     + (f"; {tg}" if tg else ""))
    if s.encodings:
        lines.append("encodings read: " + ", ".join(f"{k} {e}" for k, e in s.encodings.items()))
    return "\n".join(lines)
