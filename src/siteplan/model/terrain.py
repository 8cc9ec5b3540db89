"""Terrain grid in the local metric CRS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siteplan.model._arrays import freeze_arrays

__all__ = ["Terrain"]


@dataclass(frozen=True, eq=False)
class Terrain:
    """North-up elevation grid (row 0 is the northern edge) with square cells.

    The centre of cell ``[i, j]`` is at ``x = x_min + (j + 0.5) * cell_m``,
    ``y = y_max - (i + 0.5) * cell_m`` in the scenario's local CRS [m].
    """

    elevation_m: np.ndarray    # float32 (ny, nx) [m] above mean sea level
    x_min: float               # [m] west edge
    y_max: float               # [m] north edge
    cell_m: float              # [m] cell size
    crs: str                   # local CRS, e.g. "EPSG:32650"
    clutter: np.ndarray | None = None   # int16 (ny, nx) land-cover class, or None
    source: str = ""           # file it was read from, and resampling note

    def __post_init__(self):
        if self.elevation_m.ndim != 2:
            raise ValueError("elevation_m must be 2-D")
        if self.clutter is not None and self.clutter.shape != self.elevation_m.shape:
            raise ValueError("clutter must have the DEM's shape")
        freeze_arrays(self)

    @property
    def ny(self) -> int:
        return int(self.elevation_m.shape[0])

    @property
    def nx(self) -> int:
        return int(self.elevation_m.shape[1])

    @property
    def x_max(self) -> float:
        return self.x_min + self.nx * self.cell_m

    @property
    def y_min(self) -> float:
        return self.y_max - self.ny * self.cell_m

    def contains(self, x_m, y_m) -> np.ndarray:
        """True where points [m] lie inside the grid's outer edges."""
        x = np.asarray(x_m, dtype=float)
        y = np.asarray(y_m, dtype=float)
        return (x >= self.x_min) & (x <= self.x_max) & (y >= self.y_min) & (y <= self.y_max)

    def sample(self, x_m, y_m) -> np.ndarray:
        """Bilinear elevation [m] at points [m] (clamped to the grid)."""
        x = np.asarray(x_m, dtype=float)
        y = np.asarray(y_m, dtype=float)
        fj = np.clip((x - self.x_min) / self.cell_m - 0.5, 0, self.nx - 1)
        fi = np.clip((self.y_max - y) / self.cell_m - 0.5, 0, self.ny - 1)
        j0 = np.minimum(np.floor(fj).astype(np.int64), self.nx - 2 if self.nx > 1 else 0)
        i0 = np.minimum(np.floor(fi).astype(np.int64), self.ny - 2 if self.ny > 1 else 0)
        j1 = np.minimum(j0 + 1, self.nx - 1)
        i1 = np.minimum(i0 + 1, self.ny - 1)
        tj = fj - j0
        ti = fi - i0
        z = self.elevation_m
        top = z[i0, j0] * (1 - tj) + z[i0, j1] * tj
        bot = z[i1, j0] * (1 - tj) + z[i1, j1] * tj
        return top * (1 - ti) + bot * ti
