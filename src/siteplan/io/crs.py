"""Coordinate conversions: GCJ-02 -> WGS84, and WGS84 <-> the local UTM CRS (pyproj).

GCJ-02 ("Mars coordinates") is the obfuscated datum required for Chinese web maps
(Amap, Tencent). The forward transform is the widely published closed-form
approximation of the GB/T 2260 "encryption"; we invert it by fixed-point iteration,
which reaches < 1 cm after three rounds in southern China.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["wgs84_to_gcj02", "gcj02_to_wgs84", "utm_crs_for", "Projector", "in_china"]

_A = 6378245.0                  # Krasovsky 1940 semi-major axis [m]
_EE = 0.00669342162296594323    # Krasovsky 1940 first eccentricity squared [-]


def in_china(lon, lat) -> np.ndarray:
    """Rough box in which GCJ-02 differs from WGS84 (outside it they coincide)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _dlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon, lat):
    """WGS84 [deg] -> GCJ-02 [deg] (identity outside China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _dlat(lon - 105.0, lat - 35.0)
    dlon = _dlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, iterations: int = 3):
    """GCJ-02 [deg] -> WGS84 [deg] by fixed-point inversion of :func:`wgs84_to_gcj02`."""
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max(1, iterations)):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        wlon = wlon - (flon - glon)
        wlat = wlat - (flat - glat)
    return wlon, wlat


def utm_crs_for(lon: float, lat: float) -> str:
    """EPSG code string of the WGS84 UTM zone containing (lon, lat) [deg]."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


class Projector:
    """WGS84 lon/lat <-> local metric CRS, with pyproj transformers built once."""

    def __init__(self, local_crs: str):
        from pyproj import Transformer

        self.local_crs = local_crs
        self._fwd = Transformer.from_crs("EPSG:4326", local_crs, always_xy=True)
        self._inv = Transformer.from_crs(local_crs, "EPSG:4326", always_xy=True)

    def to_local(self, lon, lat):
        """WGS84 [deg] -> local (x, y) [m]."""
        x, y = self._fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_wgs84(self, x, y):
        """Local (x, y) [m] -> WGS84 (lon, lat) [deg]."""
        lon, lat = self._inv.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
