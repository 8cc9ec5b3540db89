"""Naive twins for the siting model: an independent plan checker and brute-force enumeration.

Written from the problem statement (docs/siting-model.md), not from siteplan.siting.model:
plain loops over sites, operators, phases and points.
"""

from __future__ import annotations

import itertools

import numpy as np


def station_table(inp, site_phase, station_site, station_op, station_phase):
    """have[s][k][p]: operator k has a station at s by the end of phase p."""
    have = [[[bool(inp.tenants[s, k]) for _ in range(inp.n_phases)] for k in range(inp.n_ops)]
            for s in range(inp.n_sites)]
    for s, k, p in zip(station_site, station_op, station_phase):
        for q in range(int(p), inp.n_phases):
            have[int(s)][int(k)][q] = True
    return have


def point_served(inp, have, d, p, operator=None):
    for k in range(inp.n_ops):
        if operator is not None and k != operator:
            continue
        row = inp.cover[k].getrow(d).toarray().ravel()
        for s in range(inp.n_sites):
            if row[s] and have[s][k][p]:
                return True
    return False


def check_plan(inp, site_phase, station_site, station_op, station_phase) -> list[str]:
    """Every rule of the siting model, checked one by one; returns the broken ones."""
    errors = []
    P = inp.n_phases
    for s in range(inp.n_sites):
        if inp.existing[s] and site_phase[s] != -1:
            errors.append(f"existing site {s} built again")
    seen = set()
    for s, k, p in zip(station_site, station_op, station_phase):
        s, k, p = int(s), int(k), int(p)
        if (s, k) in seen:
            errors.append(f"two new stations of operator {k} at site {s}")
        seen.add((s, k))
        if inp.tenants[s, k]:
            errors.append(f"operator {k} already has a station at site {s}")
        if not inp.existing[s] and not (0 <= site_phase[s] <= p):
            errors.append(f"station at site {s} in phase {p} before the site is built ({site_phase[s]})")
    for s in range(inp.n_sites):
        n = int(inp.tenants[s].sum()) + sum(1 for ss in station_site if int(ss) == s)
        if n > inp.max_tenants[s]:
            errors.append(f"site {s} has {n} tenants > {inp.max_tenants[s]}")
        if not inp.existing[s] and site_phase[s] >= 0:
            hosted = [int(p) for ss, p in zip(station_site, station_phase) if int(ss) == s]
            if not hosted or min(hosted) > site_phase[s]:
                errors.append(f"new site {s} hosts no station in the phase it is built")
    for p in range(P):
        n_sites = sum(1 for s in range(inp.n_sites) if site_phase[s] == p)
        n_st = sum(1 for q in station_phase if int(q) == p)
        lo, hi = inp.quotas_sites[p]
        if n_sites < lo or (hi >= 0 and n_sites > hi):
            errors.append(f"phase {p}: {n_sites} new sites outside quota [{lo}, {hi}]")
        lo, hi = inp.quotas_stations[p]
        if n_st < lo or (hi >= 0 and n_st > hi):
            errors.append(f"phase {p}: {n_st} new stations outside quota [{lo}, {hi}]")
        spend = sum(inp.build_cost[s] for s in range(inp.n_sites) if site_phase[s] == p)
        spend += sum(inp.station_cost[k] + (inp.colocation_cost if inp.existing[s] else 0.0)
                     for s, k, q in zip(station_site, station_op, station_phase) if int(q) == p)
        if spend > inp.budgets[p] + 1e-6:
            errors.append(f"phase {p}: spend {spend} over budget {inp.budgets[p]}")
    have = station_table(inp, site_phase, station_site, station_op, station_phase)
    everything = [[[True] * inp.n_phases for _ in range(inp.n_ops)] for _ in range(inp.n_sites)]
    for t in inp.targets:
        for v in t.villages:
            # policy "exclude": points that no site at all could serve count as served
            share = sum(inp.point_weight[d] for d in range(inp.n_points)
                        if inp.point_village[d] == v and (
                            point_served(inp, have, d, t.phase, t.operator)
                            or (inp.uncoverable == "exclude"
                                and not point_served(inp, everything, d, t.phase, t.operator))))
            if share < t.share - 1e-9:
                errors.append(f"target {t.label}: village {v} served share {share:.3f} < {t.share}")
    return errors


def plan_cost(inp, site_phase, station_site, station_op, station_phase) -> float:
    """Discounted build cost plus the poor-early reward term (capacity penalty off)."""
    total = 0.0
    for s in range(inp.n_sites):
        if site_phase[s] >= 0:
            total += inp.discount[site_phase[s]] * inp.build_cost[s]
    for s, k, p in zip(station_site, station_op, station_phase):
        total += inp.discount[p] * (inp.station_cost[k] + (inp.colocation_cost if inp.existing[s] else 0.0))
    rho = inp.weights.poor_early_cny_per_person
    if rho > 0:
        due = {}
        for t in inp.targets:
            if t.operator is None:
                for v in t.villages:
                    if inp.village_poor[v]:
                        due[int(v)] = min(due.get(int(v), 10**9), t.phase)
        have = station_table(inp, site_phase, station_site, station_op, station_phase)
        for d in range(inp.n_points):
            v = int(inp.point_village[d])
            if v not in due:
                continue
            for p in range(min(due[v], inp.n_phases)):
                if not point_served(inp, have, d, p, None) or point_served(
                        inp, station_table(inp, [-1] * inp.n_sites, [], [], []), d, p, None):
                    continue
                total -= rho * inp.discount[p] * inp.village_population[v] * inp.point_weight[d]
    return total


def brute_force(inp):
    """Cheapest feasible plan by enumeration: (cost, site_phase, stations) or None."""
    P = inp.n_phases
    cands = [s for s in range(inp.n_sites) if not inp.existing[s]]
    slots = [(s, k) for s in range(inp.n_sites) for k in range(inp.n_ops) if not inp.tenants[s, k]]
    best = None
    for sp_choice in itertools.product(range(-1, P), repeat=len(cands)):
        site_phase = [-1] * inp.n_sites
        for s, p in zip(cands, sp_choice):
            site_phase[s] = p
        for st_choice in itertools.product(range(-1, P), repeat=len(slots)):
            ss = [s for (s, k), p in zip(slots, st_choice) if p >= 0]
            kk = [k for (s, k), p in zip(slots, st_choice) if p >= 0]
            pp = [p for p in st_choice if p >= 0]
            if check_plan(inp, site_phase, ss, kk, pp):
                continue
            c = plan_cost(inp, site_phase, ss, kk, pp)
            if best is None or c < best[0] - 1e-9:
                best = (c, list(site_phase), list(zip(ss, kk, pp)))
    return best


def site_subproblem_min(r_b, r_x, free):
    """Minimum of ``sum r_b[p] b_p + sum r_x[k, p] x_kp`` over the 0/1 plans of one site
    under its own rules only, by enumeration (the Lagrangian subproblem's naive twin).

    r_b : per-phase build prices, or None for an existing site; r_x : (slots, phases)
    station prices; free : tenancy left. Rules: the site is built at most once; each slot
    filled at most once; at most ``free`` stations; on a candidate, stations only from its
    build phase on and at least one station in the build phase.
    """
    n, P = len(r_x), len(r_x[0]) if len(r_x) else 0
    best = 0.0
    build_options = [None] if r_b is None else [None] + list(range(len(r_b)))
    for pb in build_options:
        for choice in itertools.product(range(-1, max(P, 1)), repeat=n):
            chosen = [(k, p) for k, p in enumerate(choice) if p >= 0]
            if len(chosen) > free:
                continue
            if r_b is not None:
                if pb is None and chosen:
                    continue
                if pb is not None and (any(p < pb for _, p in chosen) or not any(p == pb for _, p in chosen)):
                    continue
            val = sum(r_x[k][p] for k, p in chosen) + (r_b[pb] if pb is not None else 0.0)
            best = min(best, val)
    return best
