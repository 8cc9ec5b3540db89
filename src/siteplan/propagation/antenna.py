"""Sector antenna pattern (3GPP TR 36.814 Table A.2.1.1-2) and the downlink link budget.

Horizontal: A_H(phi) = -min(12 (phi / phi_3dB)^2, A_m); vertical:
A_V(theta) = -min(12 ((theta - theta_tilt) / theta_3dB)^2, SLA_V); combined:
A = -min(-(A_H + A_V), A_m); gain = G_max + A [dBi]. ``phi`` is the bearing to the user
minus the sector azimuth (degrees clockwise from north), ``theta`` the depression angle
of the user below the antenna's horizontal [deg] (positive downward, as the tilt).
A_m is the front-to-back ratio (25 dB in TR 36.814), SLA_V = 20 dB.

Link budget (all [dB]/[dBm]):
RSRP = RS EIRP + antenna pattern - path loss - diffraction - clutter/penetration -
shadow-fading margin.
"""

from __future__ import annotations

import numpy as np

from siteplan.exceptions import Problem
from siteplan.propagation import _kernels as K
from siteplan.propagation._validate import PropagationInputError, as_float_array

__all__ = [
    "sector_gain",
    "site_gain",
    "bearing_deg",
    "depression_deg",
    "link_budget_rsrp",
    "SLA_V_DB",
]

#: Vertical side-lobe attenuation SLA_V [dB] (TR 36.814 Table A.2.1.1-2).
SLA_V_DB = 20.0


def _pos(name, arr):
    if arr.size and np.min(arr) <= 0:
        raise PropagationInputError(Problem(None, None, name, "must be > 0", float(np.min(arr))))


def sector_gain(bearing_deg, depression_deg, azimuth_deg, downtilt_deg=4.0,
                h_beamwidth_deg=65.0, v_beamwidth_deg=10.0, front_to_back_db=25.0,
                sla_v_db=SLA_V_DB, gain_dbi=0.0):
    """Gain [dBi] of one sector antenna toward (bearing, depression), broadcasting.

    Parameters
    ----------
    bearing_deg : direction from antenna to user [deg clockwise from north].
    depression_deg : angle of the user below the antenna's horizontal [deg].
    azimuth_deg : boresight azimuth of the sector [deg clockwise from north].
    downtilt_deg : electrical/mechanical downtilt [deg], positive downward.
    h_beamwidth_deg, v_beamwidth_deg : 3 dB beamwidths [deg] (65, 10 in TR 36.814 style).
    front_to_back_db : A_m [dB]; sla_v_db : SLA_V [dB]; gain_dbi : boresight gain [dBi].
    """
    args = [as_float_array(n, v, "sector_gain") for n, v in (
        ("bearing_deg", bearing_deg), ("depression_deg", depression_deg),
        ("azimuth_deg", azimuth_deg), ("downtilt_deg", downtilt_deg),
        ("h_beamwidth_deg", h_beamwidth_deg), ("v_beamwidth_deg", v_beamwidth_deg),
        ("front_to_back_db", front_to_back_db), ("sla_v_db", sla_v_db),
        ("gain_dbi", gain_dbi))]
    _pos("h_beamwidth_deg", args[4])
    _pos("v_beamwidth_deg", args[5])
    if np.min(args[6]) < 0 or np.min(args[7]) < 0:
        raise PropagationInputError(Problem(None, None, "front_to_back_db/sla_v_db",
                                            "must be >= 0 dB", None))
    shape = np.broadcast_shapes(*(a.shape for a in args))
    flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).ravel() for a in args]
    out = np.empty(flat[0].shape[0])
    K._sector_gain_kernel(*flat, out)
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def site_gain(bearing_deg, depression_deg, azimuths_deg=(0.0, 120.0, 240.0), downtilt_deg=4.0,
              h_beamwidth_deg=65.0, v_beamwidth_deg=10.0, front_to_back_db=25.0,
              sla_v_db=SLA_V_DB, gain_dbi=0.0):
    """Gain [dBi] of the best sector of a multi-sector site (max over ``azimuths_deg``)."""
    az = np.atleast_1d(as_float_array("azimuths_deg", azimuths_deg, "site_gain"))
    if az.ndim != 1 or az.size == 0:
        raise PropagationInputError(Problem(None, None, "azimuths_deg",
                                            "must list at least one sector", az.shape))
    gains = [sector_gain(bearing_deg, depression_deg, a, downtilt_deg, h_beamwidth_deg,
                         v_beamwidth_deg, front_to_back_db, sla_v_db, gain_dbi) for a in az]
    return np.max(np.stack([np.asarray(g) for g in gains]), axis=0)[()]


def bearing_deg(x0, y0, x1, y1):
    """Bearing [deg clockwise from north, 0-360) from (x0, y0) to (x1, y1) [m]."""
    return np.degrees(np.arctan2(np.asarray(x1) - x0, np.asarray(y1) - y0)) % 360.0


def depression_deg(tx_abs_height_m, rx_abs_height_m, distance_m):
    """Depression angle [deg] of the receiver seen from the transmitter (positive down).

    Heights above sea level [m], horizontal distance [m].
    """
    return np.degrees(np.arctan2(np.asarray(tx_abs_height_m) - rx_abs_height_m,
                                 np.asarray(distance_m, dtype=float)))


def link_budget_rsrp(rs_eirp_dbm, antenna_pattern_db, path_loss_db, diffraction_loss_db=0.0,
                     clutter_loss_db=0.0, shadow_margin_db=0.0):
    """RSRP [dBm] = RS EIRP [dBm] + antenna pattern [dB] - path loss [dB] - diffraction
    [dB] - clutter/penetration [dB] - shadow-fading margin [dB] (broadcasting)."""
    terms = [as_float_array(n, v, "link_budget") for n, v in (
        ("rs_eirp_dbm", rs_eirp_dbm), ("antenna_pattern_db", antenna_pattern_db),
        ("path_loss_db", path_loss_db), ("diffraction_loss_db", diffraction_loss_db),
        ("clutter_loss_db", clutter_loss_db), ("shadow_margin_db", shadow_margin_db))]
    out = terms[0] + terms[1] - terms[2] - terms[3] - terms[4] - terms[5]
    return out[()] if np.ndim(out) == 0 else out

