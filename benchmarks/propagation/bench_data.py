"""Synthetic inputs shared by the propagation benchmarks (seeded, rebuilt on each run)."""

import numpy as np


def hilly_dem(ny, nx, seed=0):
    """int16 DEM [m]: sum of random gaussian hills on a plain, like the Chaoshan coast."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float32)
    z = np.zeros((ny, nx), dtype=np.float32) + 5.0
    n_hills = max(4, (ny * nx) // 40_000)
    for _ in range(n_hills):
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        h, w = rng.uniform(50, 400), rng.uniform(10, 60)
        y0, y1 = int(max(0, cy - 4 * w)), int(min(ny, cy + 4 * w))
        x0, x1 = int(max(0, cx - 4 * w)), int(min(nx, cx + 4 * w))
        z[y0:y1, x0:x1] += h * np.exp(-((yy[y0:y1, x0:x1] - cy) ** 2
                                         + (xx[y0:y1, x0:x1] - cx) ** 2) / (2 * w * w))
    z += rng.uniform(0, 4, size=z.shape).astype(np.float32)
    return z.astype(np.int16)
