"""A tiny deterministic PNG encoder (RGBA, zlib) and the RSRP colouring for the report.

Standard library + numpy only, so the embedded images of ``report.html`` are the same
bytes for the same input (no writer metadata, no timestamps).
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

__all__ = ["png_bytes", "png_base64", "rsrp_rgba", "RSRP_RANGE_DBM", "downsample"]

#: colour scale of RSRP images [dBm]
RSRP_RANGE_DBM = (-130.0, -60.0)

# viridis at 9 stops (matplotlib's, sampled at 0, 1/8, ..., 1), interpolated linearly
_VIRIDIS = np.array([
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], dtype=float)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG (8-bit RGBA, filter 0)."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    if a.ndim != 3 or a.shape[2] != 4:
        raise ValueError("png_bytes needs an (h, w, 4) array")
    h, w = a.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), a.reshape(h, w * 4)], axis=1).tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))


def downsample(arr: np.ndarray, max_side: int) -> tuple[np.ndarray, int]:
    """Every k-th cell so that no side exceeds ``max_side``; returns (array, k)."""
    k = max(1, int(np.ceil(max(arr.shape) / max_side)))
    return arr[::k, ::k], k


def rsrp_rgba(rsrp_dbm: np.ndarray, nodata: float, alpha: int = 200) -> np.ndarray:
    """Colour an RSRP grid [dBm] with viridis over :data:`RSRP_RANGE_DBM`; no-data transparent."""
    v = np.asarray(rsrp_dbm, dtype=float)
    valid = np.isfinite(v) & (v != nodata)
    lo, hi = RSRP_RANGE_DBM
    t = np.clip((np.where(valid, v, lo) - lo) / (hi - lo), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, len(_VIRIDIS) - 1)
    f = (t - i0)[..., None]
    rgb = _VIRIDIS[i0] * (1 - f) + _VIRIDIS[i1] * f
    out = np.zeros(v.shape + (4,), dtype=np.uint8)
    out[..., :3] = np.round(rgb).astype(np.uint8)
    out[..., 3] = np.where(valid, alpha, 0).astype(np.uint8)
    return out


def png_base64(rgba: np.ndarray) -> str:
    """PNG of ``rgba`` as base64 text (for ``data:image/png;base64,...``)."""
    return base64.b64encode(png_bytes(rgba)).decode("ascii")

