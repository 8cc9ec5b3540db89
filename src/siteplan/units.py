"""Unit conversions. Canonical units inside siteplan: metres [m], megahertz [MHz],
decibels [dB], decibel-milliwatts [dBm], megabits per second [Mbit/s], yuan [CNY].

Bottom layer: imports nothing from siteplan. Conversion of *input* data to canonical
units happens in :mod:`siteplan.io`; these helpers are the only formulas used there.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SPEED_OF_LIGHT_M_S",
    "EARTH_RADIUS_M",
    "K_FACTOR_STANDARD",
    "EFFECTIVE_EARTH_RADIUS_M",
    "dbm_to_mw",
    "mw_to_dbm",
    "db_to_linear",
    "linear_to_db",
    "wavelength_m",
    "km_to_m",
    "ghz_to_mhz",
]

#: Speed of light in vacuum [m/s].
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: Mean earth radius [m] (ITU-R P.1812 uses 6371 km).
EARTH_RADIUS_M = 6_371_000.0
#: Median effective earth-radius factor k50 [-] (ITU-R P.452/P.1812: 4/3).
K_FACTOR_STANDARD = 4.0 / 3.0
#: Median effective earth radius a_e = k50 * R [m].
EFFECTIVE_EARTH_RADIUS_M = K_FACTOR_STANDARD * EARTH_RADIUS_M


def dbm_to_mw(p_dbm):
    """Power [dBm] -> [mW]."""
    return np.power(10.0, np.asarray(p_dbm, dtype=float) / 10.0)


def mw_to_dbm(p_mw):
    """Power [mW] -> [dBm]."""
    return 10.0 * np.log10(np.asarray(p_mw, dtype=float))


def db_to_linear(x_db):
    """Ratio [dB] -> linear power ratio [-]."""
    return np.power(10.0, np.asarray(x_db, dtype=float) / 10.0)


def linear_to_db(x):
    """Linear power ratio [-] -> [dB]."""
    return 10.0 * np.log10(np.asarray(x, dtype=float))


def wavelength_m(frequency_mhz):
    """Wavelength [m] of a carrier at ``frequency_mhz`` [MHz]."""
    return SPEED_OF_LIGHT_M_S / (np.asarray(frequency_mhz, dtype=float) * 1e6)


def km_to_m(x_km):
    """[km] -> [m]."""
    return np.asarray(x_km, dtype=float) * 1000.0


def ghz_to_mhz(x_ghz):
    """[GHz] -> [MHz]."""
    return np.asarray(x_ghz, dtype=float) * 1000.0
