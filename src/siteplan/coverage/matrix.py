"""CoverageMatrix: per operator a CSR matrix (demand points x sites) of RSRP [dBm] for
every pair at or above the operator's threshold, with row and column ids, the
parameters that produced it and their hash; saved as ``.npz`` + JSON metadata.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from siteplan.exceptions import FormatError, ModelError, Problem
from siteplan.io.atomic import atomic_write_bytes, atomic_write_text

__all__ = ["CoverageMatrix", "params_hash", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "siteplan-coverage"
FORMAT_VERSION = 1


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False)


def params_hash(params: dict) -> str:
    """sha256 (hex) of the canonical JSON of ``params``."""
    return hashlib.sha256(_canonical(params).encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class CoverageMatrix:
    """RSRP matrices of one scenario, one per operator.

    Attributes
    ----------
    operators : operator names, in scenario order.
    matrices : name -> ``scipy.sparse.csr_matrix`` (n_points, n_sites) float32 [dBm];
        stored entries are the pairs with RSRP >= the operator's threshold.
    row_ids : (n_points,) str, demand-point ids ``"<village id>#<k>"`` (k-th point of
        the village, 0-based).
    row_village : (n_points,) int32 index of each row's village.
    village_ids : (n_villages,) str.
    col_ids : (n_sites,) str, site ids.
    params : JSON-able parameters that produced the matrices; ``params_hash`` their hash.
    """

    operators: tuple[str, ...]
    matrices: dict
    row_ids: np.ndarray
    row_village: np.ndarray
    village_ids: np.ndarray
    col_ids: np.ndarray
    params: dict
    params_hash: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.params_hash:
            object.__setattr__(self, "params_hash", params_hash(self.params))
        n_p, n_s = len(self.row_ids), len(self.col_ids)
        for name in self.operators:
            m = self.matrices.get(name)
            if m is None or m.shape != (n_p, n_s):
                raise ModelError(f"coverage matrix of operator {name!r} must have shape "
                                 f"({n_p}, {n_s}), got {None if m is None else m.shape}")

    def __getitem__(self, operator: str) -> sp.csr_matrix:
        if operator not in self.matrices:
            raise ModelError(f"no coverage matrix for operator {operator!r}; "
                             f"known: {', '.join(self.operators)}")
        return self.matrices[operator]

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.row_ids), len(self.col_ids))

    def point_covered(self, operator: str) -> np.ndarray:
        """(n_points,) bool: some site covers the demand point."""
        return np.diff(self[operator].indptr) > 0

    def village_covered(self, operator: str) -> np.ndarray:
        """(n_villages,) bool: at least one demand point of the village is covered."""
        out = np.zeros(len(self.village_ids), dtype=bool)
        pc = self.point_covered(operator)
        out[self.row_village[pc]] = True
        return out

    def summary(self) -> dict:
        """Per operator: pairs, covered points and villages, and the villages with no
        covering candidate (ids)."""
        ops = {}
        for name in self.operators:
            m = self[name]
            vc = self.village_covered(name)
            ops[name] = {
                "pairs": int(m.nnz),
                "points_covered": int(self.point_covered(name).sum()),
                "villages_covered": int(vc.sum()),
                "villages_uncovered": [str(v) for v in self.village_ids[~vc]],
                "sites_covering_something": int((np.diff(m.tocsc().indptr) > 0).sum()),
            }
        return {"points": len(self.row_ids), "sites": len(self.col_ids),
                "villages": len(self.village_ids), "params_hash": self.params_hash,
                "operators": ops}

    # ---------------------------------------------------------------- files
    @staticmethod
    def paths(path: str | os.PathLike) -> tuple[Path, Path]:
        """(``X.npz``, ``X.json``) for ``path`` given with or without ``.npz``."""
        p = Path(path)
        if p.suffix.lower() in (".npz", ".json"):
            p = p.with_suffix("")
        return p.with_name(p.name + ".npz"), p.with_name(p.name + ".json")

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``X.npz`` (arrays, no pickles) then ``X.json`` (metadata), atomically."""
        npz_path, json_path = self.paths(path)
        arrays = {
            "row_ids": np.asarray(self.row_ids, dtype=str),
            "row_village": np.asarray(self.row_village, dtype=np.int32),
            "village_ids": np.asarray(self.village_ids, dtype=str),
            "col_ids": np.asarray(self.col_ids, dtype=str),
        }
        for k, name in enumerate(self.operators):
            m = self.matrices[name].tocsr()
            m.sort_indices()
            arrays[f"op{k}_data"] = m.data.astype(np.float32)
            arrays[f"op{k}_indices"] = m.indices.astype(np.int64)
            arrays[f"op{k}_indptr"] = m.indptr.astype(np.int64)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        blob = buf.getvalue()
        atomic_write_bytes(npz_path, blob)
        meta = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "npz": npz_path.name,
            "npz_sha256": hashlib.sha256(blob).hexdigest(),
            "shape": list(self.shape),
            "operators": list(self.operators),
            "params": self.params,
            "params_hash": self.params_hash,
            "summary": self.summary(),
        }
        atomic_write_text(json_path, json.dumps(meta, indent=1, sort_keys=True,
                                                ensure_ascii=False, allow_nan=False) + "\n")
        return npz_path, json_path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CoverageMatrix":
        """Read a matrix written by :meth:`save`; checks format, checksum and hash."""
        npz_path, json_path = cls.paths(path)
        jf = str(json_path)
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FormatError(Problem(jf, None, None, "file not found")) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormatError(Problem(jf, None, None, f"not valid JSON: {exc}")) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise FormatError(Problem(jf, None, "format", f"must be {FORMAT_NAME!r}",
                                      meta.get("format") if isinstance(meta, dict) else None))
        if meta.get("format_version") != FORMAT_VERSION:
            raise FormatError(Problem(jf, None, "format_version", f"must be {FORMAT_VERSION}",
                                      meta.get("format_version")))
        try:
            blob = npz_path.read_bytes()
        except FileNotFoundError:
            raise FormatError(Problem(str(npz_path), None, None, "file not found")) from None
        if hashlib.sha256(blob).hexdigest() != meta.get("npz_sha256"):
            raise FormatError(Problem(str(npz_path), None, None,
                                      "checksum differs from the one in the JSON metadata"))
        if params_hash(meta.get("params", {})) != meta.get("params_hash"):
            raise FormatError(Problem(jf, None, "params_hash",
                                      "does not match the stored parameters"))
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        n_p, n_s = meta["shape"]
        mats = {}
        for k, name in enumerate(meta["operators"]):
            try:
                mats[name] = sp.csr_matrix((arrays[f"op{k}_data"], arrays[f"op{k}_indices"],
                                            arrays[f"op{k}_indptr"]), shape=(n_p, n_s))
            except (KeyError, ValueError) as exc:
                raise FormatError(Problem(str(npz_path), None, f"op{k}",
                                          f"bad sparse arrays: {exc}")) from None
        return cls(tuple(meta["operators"]), mats, arrays["row_ids"].astype(object),
                   arrays["row_village"], arrays["village_ids"].astype(object),
                   arrays["col_ids"].astype(object), meta["params"], meta["params_hash"])
