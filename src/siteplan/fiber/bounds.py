"""Lower bounds by dual ascent and the reduced-cost elimination they allow.

Dual ascent (Wong 1984, "A dual ascent approach for Steiner tree problems on a directed
graph", Math. Programming 28) works on the directed cut formulation of the problem on
the bidirected graph rooted at a terminal: while some terminal ``t`` cannot be reached
from the root over arcs of zero reduced cost, take the set ``W`` of vertices that reach
``t`` over such arcs; every Steiner arborescence enters ``W``, so the smallest reduced
cost on the arcs entering ``W`` is added to the bound and subtracted from those arcs.
The bound is a feasible dual of the LP relaxation, hence <= the optimum.

Reduced-cost elimination (Polzin and Vahdati Daneshmand 2001): any tree that uses arc
``(u, v)`` costs at least ``LB + d(root, u) + rc(u, v) + d(v, T)``, distances taken with
the reduced costs; edges whose two arcs exceed the cutoff are deleted.
"""

from __future__ import annotations

import numpy as np

from siteplan.fiber._kernels import _arc_dijkstra_kernel, _dual_ascent_kernel, _saturated_edges_kernel
from siteplan.fiber.reduce import CompactGraph

__all__ = ["dual_ascent", "elimination_mask", "saturated_edges"]


def dual_ascent(g: CompactGraph, root: int) -> tuple[float, np.ndarray]:
    """Dual-ascent lower bound rooted at terminal ``root`` and the reduced arc costs (2m,)."""
    ok = np.ones(g.m, np.bool_)
    lb, rc = _dual_ascent_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.eu, g.ev, g.ew, ok, g.is_term, int(root))
    return float(lb), rc


def saturated_edges(g: CompactGraph, rc: np.ndarray) -> np.ndarray:
    """Edges with an arc of zero reduced cost (the support of the dual-ascent solution)."""
    return _saturated_edges_kernel(g.m, rc)


def elimination_mask(g: CompactGraph, lb: float, rc: np.ndarray, root: int, cutoff: float) -> np.ndarray:
    """Edges every tree through which costs at least ``cutoff`` (boolean mask, True = delete).

    ``lb`` and ``rc`` come from :func:`dual_ascent` rooted at ``root``."""
    d_root = _arc_dijkstra_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.ev, rc, np.asarray([root], np.int64), True)
    others = g.terminals[g.terminals != root]
    d_term = _arc_dijkstra_kernel(g.n, g.indptr, g.adj_v, g.adj_e, g.ev, rc, others.astype(np.int64), False)
    a_fwd = lb + d_root[g.eu] + rc[0::2] + d_term[g.ev]  # arc eu -> ev
    a_bwd = lb + d_root[g.ev] + rc[1::2] + d_term[g.eu]  # arc ev -> eu
    with np.errstate(invalid="ignore"):
        kill = np.minimum(a_fwd, a_bwd) >= cutoff
    # a vertex whose every use costs >= cutoff takes all its edges with it
    node_bound = lb + d_root + d_term
    dead = (node_bound >= cutoff) & ~g.is_term
    kill |= dead[g.eu] | dead[g.ev]
    return kill
