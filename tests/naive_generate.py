"""Slow, obviously right twins for the generator's helpers (tests only)."""

from __future__ import annotations

import math
from collections import deque

__all__ = ["point_in_ring", "point_in_rings", "bilinear_point", "haversine_m", "bfs_reachable", "is_gabriel_edge"]


def point_in_ring(x: float, y: float, ring) -> bool:
    """Ray casting (W. R. Franklin's PNPOLY): count crossings of a ray towards +x."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y):
            xc = (xj - xi) * (y - yi) / (yj - yi) + xi
            if x < xc:
                inside = not inside
        j = i
    return inside


def point_in_rings(x: float, y: float, rings) -> bool:
    """Even-odd rule over several rings (outer rings and holes)."""
    inside = False
    for r in rings:
        if point_in_ring(x, y, r):
            inside = not inside
    return inside


def bilinear_point(lons, lats, alt, lon: float, lat: float) -> float:
    """Bilinear value at one point on an ascending grid; NaN counts as 0; clamped at the edges."""
    def cell(c, v):
        if len(c) == 1:
            return 0, 0, 0.0
        v = min(max(v, c[0]), c[-1])
        for k in range(len(c) - 1):
            if c[k] <= v <= c[k + 1]:
                return k, k + 1, (v - c[k]) / (c[k + 1] - c[k])
        raise AssertionError("unreachable")

    def val(i, j):
        a = alt[i][j]
        return 0.0 if a != a else float(a)

    j0, j1, tx = cell(list(lons), lon)
    i0, i1, ty = cell(list(lats), lat)
    top = val(i0, j0) * (1 - tx) + val(i0, j1) * tx
    bot = val(i1, j0) * (1 - tx) + val(i1, j1) * tx
    return top * (1 - ty) + bot * ty


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on a sphere of radius 6,371,008.8 m (IUGG mean radius) [m]."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def bfs_reachable(n_nodes: int, edges, start: int) -> set[int]:
    """Nodes reachable from ``start`` in an undirected graph given as (u, v) pairs."""
    adj = [[] for _ in range(n_nodes)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    seen = {start}
    q = deque([start])
    while q:
        u = q.popleft()
        for w in adj[u]:
            if w not in seen:
                seen.add(w)
                q.append(w)
    return seen


def is_gabriel_edge(pts, a: int, b: int) -> bool:
    """No other point strictly inside the circle whose diameter is the segment a-b."""
    (xa, ya), (xb, yb) = pts[a], pts[b]
    mx, my = (xa + xb) / 2, (ya + yb) / 2
    r2 = ((xa - xb) ** 2 + (ya - yb) ** 2) / 4
    for k, (x, y) in enumerate(pts):
        if k not in (a, b) and (x - mx) ** 2 + (y - my) ** 2 < r2 * (1 - 1e-9):
            return False
    return True
