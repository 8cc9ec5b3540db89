"""A read-only, checked view of a plan dict (docs/plan-format.md) joined with its Scenario.

Every writer of :mod:`siteplan.report` reads the plan through :func:`plan_view`, so the
key checks, the phase bookkeeping (existing = phase -1) and the joins with the scenario
(local coordinates, district, population) happen once. Nothing here imports a solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from siteplan.exceptions import OutputError
from siteplan.model.scenario import Scenario

__all__ = ["PlanView", "plan_view", "phase_slug", "quota_text", "quota_state", "finite_or_none", "EXISTING", "NEVER"]

#: phase index of things present before the programme
EXISTING = -1
#: phase index of villages never covered
NEVER = 1 << 30


def _need(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise OutputError(f"plan: {where} has no '{key}' (see docs/plan-format.md)")
    return obj[key]


def _num(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OutputError(f"plan: {where} must be a number or null, got {value!r}")
    return float(value)


@dataclass(frozen=True, eq=False)
class PlanView:
    """The plan's lists as arrays, aligned with one another.

    Phase indices: ``-1`` (:data:`EXISTING`) = present before the programme, ``0..P-1`` the
    phases, :data:`NEVER` = never (villages not covered by the last phase).
    Coordinates: ``lon``/``lat`` WGS84 [deg] as in the plan, ``x``/``y`` the scenario's
    local CRS [m] (joined by id, projected when the id is not in the scenario).
    """

    plan: dict
    scenario: Scenario
    phases: tuple[str, ...]
    operators: tuple[str, ...]
    # sites
    site_id: tuple[str, ...]
    site_kind: tuple[str, ...]
    site_phase: np.ndarray          # int: built phase, -1 existing / never built
    site_lon: np.ndarray
    site_lat: np.ndarray
    site_x: np.ndarray
    site_y: np.ndarray
    site_height: np.ndarray         # [m], nan when unknown
    site_max_tenants: np.ndarray    # int, -1 when unknown
    site_before: tuple[tuple[str, ...], ...]
    site_after: tuple[tuple[str, ...], ...]
    # stations
    st_site: np.ndarray             # int index into the sites above
    st_op: np.ndarray               # int index into operators
    st_phase: np.ndarray            # int, -1 existing
    # villages
    v_id: tuple[str, ...]
    v_name: tuple[str, ...]
    v_district: tuple[str, ...]
    v_town: tuple[str, ...]
    v_poor: np.ndarray
    v_lon: np.ndarray
    v_lat: np.ndarray
    v_x: np.ndarray
    v_y: np.ndarray
    v_population: np.ndarray        # int, -1 when not in the scenario
    v_ur_code: np.ndarray           # int, -1 when not in the scenario
    v_synthetic: np.ndarray         # bool: location generated
    v_share: np.ndarray             # (V, P) served share [-]
    v_covered: np.ndarray           # (V, P) bool
    v_first: np.ndarray             # int: first covered phase, -1 existing, NEVER
    v_best_rsrp: np.ndarray         # [dBm], nan when none
    v_serving: tuple[tuple[str, ...], ...]
    # fiber routes
    routes: tuple[dict, ...]
    route_phase: np.ndarray         # int
    route_lonlat: tuple[np.ndarray, ...]   # (n, 2) [deg] per route
    route_xy: tuple[np.ndarray, ...]       # (n, 2) [m] per route
    terminals: tuple[dict, ...]
    terminal_phase: np.ndarray
    terminal_lonlat: np.ndarray     # (T, 2) [deg]
    terminal_xy: np.ndarray         # (T, 2) [m]

    @property
    def n_phases(self) -> int:
        return len(self.phases)

    @property
    def synthetic(self) -> tuple[str, ...]:
        """Labels of what is synthetic: the plan's list, then the manifest's, without repeats."""
        labels = list((self.plan.get("scenario") or {}).get("synthetic") or [])
        labels += list(self.scenario.manifest.synthetic)
        out: list[str] = []
        for s in labels:
            if str(s) not in out:
                out.append(str(s))
        return tuple(out)

    def phase_label(self, idx: int) -> str:
        if idx == EXISTING:
            return "existing"
        if idx >= NEVER:
            return "never"
        return self.phases[idx]

    def phase_dict(self, idx: int) -> dict:
        return self.plan["phases"][idx]

    def sites_present(self, p: int) -> np.ndarray:
        """Bool per site: standing by the end of phase ``p`` (existing or built by then)."""
        built = (self.site_phase <= p)
        existing = np.array([k == "existing" for k in self.site_kind], dtype=bool)
        return existing | ((self.site_phase >= 0) & built)

    def stations_present(self, p: int) -> np.ndarray:
        """Bool per station: on air by the end of phase ``p``."""
        return self.st_phase <= p

    def covered_count(self, p: int, mask: np.ndarray | None = None) -> int:
        """Villages covered by the end of phase ``p`` (``p = -1``: before the programme)."""
        m = np.ones(len(self.v_id), dtype=bool) if mask is None else mask
        if p == EXISTING:
            return int(np.count_nonzero(m & (self.v_first == EXISTING)))
        return int(np.count_nonzero(m & self.v_covered[:, p]))

    def fiber_km(self, p: int) -> float:
        """Fiber laid in phase ``p`` [km]: the phase summary's figure, else the routes' sum."""
        value = self.phase_dict(p).get("fiber_km")
        if value is not None:
            return float(value)
        return float(sum(float(r.get("length_m") or 0.0) for r, q in zip(self.routes, self.route_phase) if q == p)) / 1000

    def cost(self, p: int) -> dict[str, float]:
        """Cost items of phase ``p`` [CNY] (missing items are 0; total = sum when absent)."""
        raw = self.phase_dict(p).get("cost_cny") or {}
        items = {k: float(raw.get(k) or 0.0) for k in ("sites", "stations", "colocation", "fiber")}
        items["total"] = float(raw["total"]) if raw.get("total") is not None else sum(items.values())
        return items


def phase_slug(idx: int, name: str) -> str:
    """A file-name-safe label of a phase: ``1_2016`` (1-based index, then a cleaned name)."""
    clean = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) else "_" for c in str(name)).strip("._")
    return f"{idx + 1}_{clean[:40]}" if clean else f"{idx + 1}"


def quota_text(q: Any) -> str:
    """``[813, 813]`` -> ``813``; ``[0, 2]`` -> ``0–2``; ``[5, None]`` -> ``≥ 5``; None -> ``–``."""
    if q is None:
        return "–"
    lo, hi = (q if isinstance(q, (list, tuple)) else (q, q))
    if lo is None and hi is None:
        return "–"
    if hi is None:
        return f"≥ {int(lo):,}"
    if lo is None:
        return f"≤ {int(hi):,}"
    return f"{int(lo):,}" if lo == hi else f"{int(lo):,}–{int(hi):,}"


def quota_state(value: int, q: Any) -> str:
    """``met`` / ``below`` / ``above`` / ``none`` (no quota) for a count against a quota."""
    if q is None:
        return "none"
    lo, hi = (q if isinstance(q, (list, tuple)) else (q, q))
    if lo is not None and value < lo:
        return "below"
    if hi is not None and value > hi:
        return "above"
    return "met"


def _projector(scenario: Scenario):
    from siteplan.io.crs import Projector

    return Projector(scenario.crs)


def _phase_index(value: Any, index: dict[str, int], where: str, *, allow_existing: bool = True) -> int:
    if value is None:
        return EXISTING
    if allow_existing and value == "existing":
        return EXISTING
    if value not in index:
        raise OutputError(f"plan: {where} names phase {value!r}, not one of {list(index)}")
    return index[value]


def _lonlat(obj: dict, where: str) -> tuple[float, float]:
    lon = _num(_need(obj, "lon", where), f"{where}.lon")
    lat = _num(_need(obj, "lat", where), f"{where}.lat")
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise OutputError(f"plan: {where} has lon/lat out of range: {lon!r}, {lat!r}")
    return lon, lat


def _numbers(obj: Any, keys: tuple[str, ...], where: str) -> None:
    if obj is None:
        return
    if not isinstance(obj, dict):
        raise OutputError(f"plan: {where} must be an object, got {obj!r}")
    for k in keys:
        _num(obj.get(k), f"{where}.{k}")


def _check_blocks(plan: dict, phases_raw: list) -> None:
    """Types of the summary values the report prints (phases, siting, fiber, findings)."""
    for key in ("options", "scenario", "siting", "fiber"):
        if plan.get(key) is not None and not isinstance(plan.get(key), dict):
            raise OutputError(f"plan: {key} must be an object, got {plan.get(key)!r}")
    syn = (plan.get("scenario") or {}).get("synthetic")
    if syn is not None and not isinstance(syn, list):
        raise OutputError(f"plan: scenario.synthetic must be a list of labels, got {syn!r}")
    for i, ph in enumerate(phases_raw):
        w = f"phases[{i}]"
        _numbers(ph.get("cost_cny"), ("sites", "stations", "colocation", "fiber", "total"), f"{w}.cost_cny")
        _num(ph.get("fiber_km"), f"{w}.fiber_km")
        for key in ("quota_sites", "quota_stations"):
            q = ph.get(key)
            if q is not None and not (isinstance(q, list) and len(q) == 2 and all(
                    x is None or (isinstance(x, int) and not isinstance(x, bool)) for x in q)):
                raise OutputError(f"plan: {w}.{key} must be [min, max] integers (or null), got {q!r}")
    _numbers(plan.get("siting"), ("objective", "bound", "gap"), "siting")
    size = (plan.get("siting") or {}).get("model_size")
    if size is not None:
        _numbers(size, tuple(size) if isinstance(size, dict) else (), "siting.model_size")
    _numbers(plan.get("fiber"), ("cost_cny", "lower_bound_cny", "gap"), "fiber")
    for i, r in enumerate((plan.get("fiber") or {}).get("routes") or ()):
        _numbers(r, ("length_m", "cost_cny", "fibers"), f"fiber.routes[{i}]")
    for i, t in enumerate((plan.get("fiber") or {}).get("terminals") or ()):
        _numbers(t, ("bandwidth_mbps", "drop_m", "port"), f"fiber.terminals[{i}]")
    findings = plan.get("findings")
    if findings is not None and not (isinstance(findings, list) and all(isinstance(f, dict) for f in findings)):
        raise OutputError("plan: findings must be a list of objects")


def plan_view(plan: dict, scenario: Scenario) -> PlanView:
    """Check the keys the report needs and build the aligned arrays (raises OutputError).

    A plan read from a hand-edited plan.json may hold any JSON: a value of the wrong type
    anywhere is reported as an OutputError, never as a traceback."""
    try:
        return _plan_view(plan, scenario)
    except OutputError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        raise OutputError(f"plan: malformed content ({type(exc).__name__}: {exc}); see docs/plan-format.md") from None


def _plan_view(plan: dict, scenario: Scenario) -> PlanView:
    if not isinstance(plan, dict):
        raise OutputError(f"plan must be a dict, got {type(plan).__name__}")
    phases_raw = _need(plan, "phases", "plan")
    phases = tuple(str(_need(p, "name", f"phases[{i}]")) for i, p in enumerate(phases_raw))
    if len(set(phases)) != len(phases) or not phases:
        raise OutputError(f"plan: phase names must be unique and non-empty, got {list(phases)}")
    pidx = {n: i for i, n in enumerate(phases)}
    _check_blocks(plan, phases_raw)
    operators = tuple(str(o) for o in _need(plan, "operators", "plan"))
    oidx = {n: i for i, n in enumerate(operators)}
    proj = None

    def project(lon, lat):
        nonlocal proj
        if proj is None:
            proj = _projector(scenario)
        return proj.to_local(lon, lat)

    # -- sites ---------------------------------------------------------------------------
    sites = _need(plan, "sites", "plan")
    sc_sites = {sid: i for i, sid in enumerate(scenario.sites.id.tolist())}
    n = len(sites)
    s_id, s_kind, s_before, s_after = [], [], [], []
    s_phase = np.full(n, EXISTING, dtype=np.int64)
    s_lon, s_lat = np.zeros(n), np.zeros(n)
    s_x, s_y = np.full(n, np.nan), np.full(n, np.nan)
    s_h = np.full(n, np.nan)
    s_max = np.full(n, -1, dtype=np.int64)
    for i, s in enumerate(sites):
        w = f"sites[{i}]"
        sid = str(_need(s, "id", w))
        s_id.append(sid)
        kind = str(_need(s, "kind", w))
        if kind not in ("existing", "candidate"):
            raise OutputError(f"plan: {w}.kind must be 'existing' or 'candidate', got {kind!r}")
        s_kind.append(kind)
        s_phase[i] = _phase_index(s.get("built_phase"), pidx, f"{w}.built_phase", allow_existing=False)
        s_lon[i], s_lat[i] = _lonlat(s, w)
        h = _num(s.get("height_m"), f"{w}.height_m")
        s_before.append(tuple(str(t) for t in s.get("tenants_before") or ()))
        s_after.append(tuple(str(t) for t in s.get("tenants_after") or ()))
        j = sc_sites.get(sid)
        if j is not None:
            s_x[i], s_y[i] = scenario.sites.x_m[j], scenario.sites.y_m[j]
            s_max[i] = int(scenario.sites.max_tenants[j])
            if h is None:
                h = float(scenario.sites.height_m[j])
        s_h[i] = np.nan if h is None else h
    if len(set(s_id)) != len(s_id):
        raise OutputError("plan: site ids must be unique")
    miss = np.isnan(s_x)
    if miss.any():
        s_x[miss], s_y[miss] = project(s_lon[miss], s_lat[miss])
    site_index = {sid: i for i, sid in enumerate(s_id)}

    # -- stations ------------------------------------------------------------------------
    stations = _need(plan, "stations", "plan")
    m = len(stations)
    st_site = np.zeros(m, dtype=np.int64)
    st_op = np.zeros(m, dtype=np.int64)
    st_phase = np.zeros(m, dtype=np.int64)
    for i, st in enumerate(stations):
        w = f"stations[{i}]"
        sid = str(_need(st, "site", w))
        if sid not in site_index:
            raise OutputError(f"plan: {w}.site {sid!r} is not in plan['sites']")
        op = str(_need(st, "operator", w))
        if op not in oidx:
            raise OutputError(f"plan: {w}.operator {op!r} is not in plan['operators']")
        st_site[i], st_op[i] = site_index[sid], oidx[op]
        st_phase[i] = _phase_index(st.get("phase"), pidx, f"{w}.phase")

    # -- villages ------------------------------------------------------------------------
    villages = _need(plan, "villages", "plan")
    sv = scenario.villages
    sc_v = {vid: i for i, vid in enumerate(sv.id.tolist())}
    V, P = len(villages), len(phases)
    v_id, v_name, v_dist, v_town, v_serv = [], [], [], [], []
    v_poor = np.zeros(V, dtype=bool)
    v_lon, v_lat = np.zeros(V), np.zeros(V)
    v_x, v_y = np.full(V, np.nan), np.full(V, np.nan)
    v_pop = np.full(V, -1, dtype=np.int64)
    v_ur = np.full(V, -1, dtype=np.int64)
    v_syn = np.zeros(V, dtype=bool)
    v_share = np.zeros((V, P))
    v_cov = np.zeros((V, P), dtype=bool)
    v_first = np.full(V, NEVER, dtype=np.int64)
    v_rsrp = np.full(V, np.nan)
    for i, v in enumerate(villages):
        w = f"villages[{i}]"
        vid = str(_need(v, "id", w))
        j = sc_v.get(vid)
        v_id.append(vid)
        v_name.append(str(v.get("name", sv.name[j] if j is not None else "")))
        v_dist.append(str(v.get("district", sv.district[j] if j is not None else "")))
        v_town.append(str(v.get("town", sv.town[j] if j is not None else "")))
        v_poor[i] = bool(v.get("poor", bool(sv.poor[j]) if j is not None else False))
        v_lon[i], v_lat[i] = _lonlat(v, w)
        cov = _need(v, "covered_by_phase", w)
        share = v.get("share_by_phase")
        if len(cov) != P or (share is not None and len(share) != P):
            raise OutputError(f"plan: {w} needs one covered/share value per phase ({P})")
        v_cov[i] = [bool(c) for c in cov]
        if share is not None:
            v_share[i] = [float(x) for x in share]
        else:
            v_share[i] = v_cov[i].astype(float)
        first = v.get("first_covered_phase")
        if first is None:
            v_first[i] = NEVER
        else:
            v_first[i] = _phase_index(first, pidx, f"{w}.first_covered_phase")
        r = _num(v.get("best_rsrp_dbm"), f"{w}.best_rsrp_dbm")
        v_rsrp[i] = np.nan if r is None else r
        v_serv.append(tuple(str(s) for s in v.get("serving_sites") or ()))
        if j is not None:
            v_x[i], v_y[i] = sv.x_m[j], sv.y_m[j]
            v_pop[i], v_ur[i], v_syn[i] = int(sv.population[j]), int(sv.ur_code[j]), bool(sv.synthetic[j])
    miss = np.isnan(v_x)
    if miss.any():
        v_x[miss], v_y[miss] = project(v_lon[miss], v_lat[miss])

    # -- fiber ---------------------------------------------------------------------------
    fiber = plan.get("fiber") or {}
    routes = tuple(fiber.get("routes") or ())
    roads = scenario.roads
    node_index = {nid: i for i, nid in enumerate(roads.node_id.tolist())}
    r_phase = np.zeros(len(routes), dtype=np.int64)
    r_ll: list[np.ndarray] = []
    for i, r in enumerate(routes):
        w = f"fiber.routes[{i}]"
        r_phase[i] = _phase_index(_need(r, "phase", w), pidx, f"{w}.phase", allow_existing=False)
        coords = r.get("coordinates")
        if coords:
            arr = np.asarray(coords, dtype=float).reshape(-1, 2)
        else:
            ends = []
            for key in ("u", "v"):
                nid = str(_need(r, key, w))
                if nid not in node_index:
                    raise OutputError(f"plan: {w}.{key} {nid!r} has no coordinates and is not a road node")
                k = node_index[nid]
                ends.append((roads.lon[k], roads.lat[k]))
            arr = np.asarray(ends, dtype=float)
        if len(arr) < 2 or not np.isfinite(arr).all():
            raise OutputError(f"plan: {w}.coordinates needs >= 2 finite lon/lat positions")
        if (np.abs(arr[:, 0]) > 180).any() or (np.abs(arr[:, 1]) > 90).any():
            raise OutputError(f"plan: {w}.coordinates out of lon/lat range")
        r_ll.append(arr)
    r_xy = []
    if r_ll:
        allpts = np.concatenate(r_ll)
        x, y = project(allpts[:, 0], allpts[:, 1])
        xy = np.column_stack([x, y])
        start = 0
        for arr in r_ll:
            r_xy.append(xy[start:start + len(arr)])
            start += len(arr)

    terminals = tuple(fiber.get("terminals") or ())
    t_phase = np.zeros(len(terminals), dtype=np.int64)
    t_ll = np.full((len(terminals), 2), np.nan)
    fac = scenario.facilities
    fac_index = {fid: i for i, fid in enumerate(fac.id.tolist())}
    for i, t in enumerate(terminals):
        w = f"fiber.terminals[{i}]"
        tid = str(_need(t, "id", w))
        t_phase[i] = _phase_index(t.get("phase"), pidx, f"{w}.phase")
        if tid in fac_index:
            k = fac_index[tid]
            t_ll[i] = fac.lon[k], fac.lat[k]
        elif tid in site_index:
            k = site_index[tid]
            t_ll[i] = s_lon[k], s_lat[k]
        elif str(t.get("node")) in node_index:
            k = node_index[str(t.get("node"))]
            t_ll[i] = roads.lon[k], roads.lat[k]
    t_xy = np.full_like(t_ll, np.nan)
    ok = np.isfinite(t_ll[:, 0])
    if ok.any():
        tx, ty = project(t_ll[ok, 0], t_ll[ok, 1])
        t_xy[ok, 0], t_xy[ok, 1] = tx, ty

    return PlanView(
        plan=plan, scenario=scenario, phases=phases, operators=operators,
        site_id=tuple(s_id), site_kind=tuple(s_kind), site_phase=s_phase, site_lon=s_lon, site_lat=s_lat,
        site_x=s_x, site_y=s_y, site_height=s_h, site_max_tenants=s_max,
        site_before=tuple(s_before), site_after=tuple(s_after),
        st_site=st_site, st_op=st_op, st_phase=st_phase,
        v_id=tuple(v_id), v_name=tuple(v_name), v_district=tuple(v_dist), v_town=tuple(v_town),
        v_poor=v_poor, v_lon=v_lon, v_lat=v_lat, v_x=v_x, v_y=v_y, v_population=v_pop, v_ur_code=v_ur,
        v_synthetic=v_syn, v_share=v_share, v_covered=v_cov, v_first=v_first, v_best_rsrp=v_rsrp,
        v_serving=tuple(v_serv),
        routes=routes, route_phase=r_phase, route_lonlat=tuple(r_ll), route_xy=tuple(r_xy),
        terminals=terminals, terminal_phase=t_phase, terminal_lonlat=t_ll, terminal_xy=t_xy,
    )


def finite_or_none(x: float) -> float | None:
    """``None`` for nan/inf, else the float."""
    return float(x) if x is not None and math.isfinite(x) else None
