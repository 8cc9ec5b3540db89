"""Planar geometry helpers in the local metric CRS: polygon membership and raster lookup."""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path as _MplPath

__all__ = ["PolygonSet", "Grid"]


class PolygonSet:
    """Rings in metres combined with the even-odd rule (outer rings and holes).

    ``contains(x, y)`` is vectorised; each ring is tested only on points inside its box.
    """

    def __init__(self, rings_xy: list[np.ndarray]):
        self.rings = [np.ascontiguousarray(r, dtype=float) for r in rings_xy if len(r) >= 3]
        self.paths = [_MplPath(r) for r in self.rings]
        self.boxes = np.array([[r[:, 0].min(), r[:, 1].min(), r[:, 0].max(), r[:, 1].max()] for r in self.rings])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) [m]."""
        b = self.boxes
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    @property
    def area_m2(self) -> float:
        """Area by the even-odd rule, assuming holes lie inside outer rings [m^2]."""
        areas = []
        for r in self.rings:
            x, y = r[:, 0], r[:, 1]
            areas.append(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        # a ring inside another ring is a hole
        total = 0.0
        for k, r in enumerate(self.rings):
            inside_other = any(j != k and self.paths[j].contains_point(r[0]) for j in range(len(self.rings)))
            total += -areas[k] if inside_other else areas[k]
        return total

    def contains(self, x, y) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        shape = np.broadcast(x, y).shape
        x = np.broadcast_to(x, shape).ravel()
        y = np.broadcast_to(y, shape).ravel()
        out = np.zeros(x.size, dtype=bool)
        b = self.boxes
        if x.size <= 4096:       # few points: one vectorised box test for all rings
            inb = ((x[:, None] >= b[None, :, 0]) & (x[:, None] <= b[None, :, 2])
                   & (y[:, None] >= b[None, :, 1]) & (y[:, None] <= b[None, :, 3]))
            for r in np.flatnonzero(inb.any(axis=0)):
                sel = np.flatnonzero(inb[:, r])
                hit = self.paths[r].contains_points(np.column_stack([x[sel], y[sel]]))
                out[sel[hit]] ^= True
            return out.reshape(shape)
        for path, (x0, y0, x1, y1) in zip(self.paths, b):
            sel = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
            if sel.size:
                hit = path.contains_points(np.column_stack([x[sel], y[sel]]))
                out[sel[hit]] ^= True
        return out.reshape(shape)


class Grid:
    """A north-up raster frame: cell ``[i, j]`` has its centre at
    ``(x_min + (j + 0.5) * cell, y_max - (i + 0.5) * cell)`` [m]."""

    def __init__(self, x_min: float, y_max: float, cell: float, ny: int, nx: int):
        self.x_min, self.y_max, self.cell, self.ny, self.nx = float(x_min), float(y_max), float(cell), int(ny), int(nx)

    @property
    def x_max(self) -> float:
        return self.x_min + self.nx * self.cell

    @property
    def y_min(self) -> float:
        return self.y_max - self.ny * self.cell

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinate vectors (x of columns, y of rows) [m]."""
        xs = self.x_min + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y_max - (np.arange(self.ny) + 0.5) * self.cell
        return xs, ys

    def index(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cell holding each point, clamped to the grid."""
        j = np.clip(np.floor((np.asarray(x, dtype=float) - self.x_min) / self.cell).astype(np.int64), 0, self.nx - 1)
        i = np.clip(np.floor((self.y_max - np.asarray(y, dtype=float)) / self.cell).astype(np.int64), 0, self.ny - 1)
        return i, j

    def lookup(self, raster: np.ndarray, x, y) -> np.ndarray:
        """Value of the cell holding each point (nearest cell)."""
        i, j = self.index(x, y)
        return raster[i, j]
