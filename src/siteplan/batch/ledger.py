"""The run ledger: one SQLite table inside the batch's output folder.

Every change is one transaction, so a batch killed at any instant leaves a consistent
ledger: a run is ``queued``, ``running`` (possibly by a batch that died: the next batch
runs it again), ``done``, ``failed`` or ``timeout``. Only the batch driver writes it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from siteplan.batch.manifest import BatchError, RunSpec, canonical_json
from siteplan.exceptions import Problem

__all__ = ["Ledger", "LEDGER_NAME", "STATUSES", "FINAL_STATUSES", "LEDGER_VERSION"]

LEDGER_NAME = "ledger.sqlite"
LEDGER_VERSION = 1
STATUSES = ("queued", "running", "done", "failed", "timeout")
FINAL_STATUSES = ("done", "failed", "timeout")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id          TEXT PRIMARY KEY,
    batch           TEXT NOT NULL,
    label           TEXT NOT NULL,
    scenario_path   TEXT NOT NULL,
    scenario_digest TEXT NOT NULL,
    job             TEXT NOT NULL,
    variation_json  TEXT NOT NULL,
    options_json    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    attempts        INTEGER NOT NULL DEFAULT 0,
    queued_utc      TEXT,
    start_utc       TEXT,
    end_utc         TEXT,
    wall_s          REAL,
    host            TEXT,
    figures_json    TEXT,
    output_path     TEXT,
    error           TEXT
);
"""

COLUMNS = ("run_id", "batch", "label", "scenario_path", "scenario_digest", "job", "variation_json", "options_json",
           "status", "attempts", "queued_utc", "start_utc", "end_utc", "wall_s", "host", "figures_json",
           "output_path", "error")


class Ledger:
    """The SQLite ledger at ``folder / LEDGER_NAME``.

    ``create=False`` opens an existing ledger only (``siteplan runs`` never creates one).
    """

    def __init__(self, folder: str | Path, *, create: bool = True):
        self.path = Path(folder) / LEDGER_NAME
        mode = "rwc" if create else "rw"
        try:
            self.conn = sqlite3.connect(f"file:{self.path.as_posix()}?mode={mode}", uri=True, timeout=60.0,
                                        isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA synchronous=FULL")
            if create:
                self.conn.executescript(_SCHEMA)
                with self.transaction():
                    self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('version', ?)",
                                      (str(LEDGER_VERSION),))
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BatchError(Problem(str(self.path), None, None, "not a readable siteplan ledger (SQLite)",
                                     str(exc))) from None
        if row is None or row["value"] != str(LEDGER_VERSION):
            self.conn.close()
            raise BatchError(Problem(str(self.path), None, "meta.version",
                                     f"unsupported ledger version (this siteplan reads {LEDGER_VERSION})",
                                     None if row is None else row["value"]))

    def transaction(self):
        """``with ledger.transaction(): ...``: BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        return _Tx(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- batch driver ---------------------------------------------------------------

    def register(self, batch: str, runs: list[RunSpec], now: str, *, retry_failed: bool = False,
                 output_ok=lambda run_id: True) -> list[str]:
        """Insert new runs as queued and return the ids to execute, in manifest order.

        Runs left ``running`` (by a batch that died) or ``queued`` are executed again;
        ``done`` runs are skipped unless their output folder is gone (``output_ok``);
        ``failed``/``timeout`` runs are skipped unless ``retry_failed``.
        """
        todo = []
        with self.transaction():
            for r in runs:
                row = self.conn.execute("SELECT status FROM runs WHERE run_id = ?", (r.run_id,)).fetchone()
                if row is None:
                    self.conn.execute(
                        "INSERT INTO runs (run_id, batch, label, scenario_path, scenario_digest, job, variation_json,"
                        " options_json, status, queued_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                        (r.run_id, batch, r.label, r.scenario_path, r.scenario_digest, r.job,
                         canonical_json(r.variation), canonical_json(r.options), now))
                    todo.append(r.run_id)
                    continue
                status = row["status"]
                if status == "done" and output_ok(r.run_id):
                    continue
                if status in ("failed", "timeout") and not retry_failed:
                    continue
                self.conn.execute("UPDATE runs SET status = 'queued', queued_utc = ?, label = ? WHERE run_id = ?",
                                  (now, r.label, r.run_id))
                todo.append(r.run_id)
        return todo

    def mark_running(self, run_id: str, now: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE runs SET status = 'running', start_utc = ?, end_utc = NULL, error = NULL,"
                              " attempts = attempts + 1 WHERE run_id = ?", (now, run_id))

    def finish(self, run_id: str, status: str, *, start_utc: str | None, end_utc: str | None,
               wall_s: float | None, host: str | None, figures: dict | None, output_path: str | None,
               error: str | None) -> None:
        if status not in FINAL_STATUSES:
            raise ValueError(f"not a final status: {status!r}")
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET status = ?, start_utc = COALESCE(?, start_utc), end_utc = ?, wall_s = ?, host = ?,"
                " figures_json = ?, output_path = ?, error = ? WHERE run_id = ?",
                (status, start_utc, end_utc, wall_s, host,
                 None if figures is None else canonical_json(figures), output_path, error, run_id))

    def requeue(self, run_id: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE runs SET status = 'queued' WHERE run_id = ?", (run_id,))

    # --- reading --------------------------------------------------------------------

    def rows(self) -> list[dict]:
        """Every run, in the order first registered, as dicts (JSON columns decoded)."""
        out = []
        for row in self.conn.execute("SELECT * FROM runs ORDER BY rowid"):
            d = dict(row)
            d["variation"] = json.loads(d.pop("variation_json"))
            d["options"] = json.loads(d.pop("options_json"))
            fj = d.pop("figures_json")
            d["figures"] = None if fj is None else json.loads(fj)
            out.append(d)
        return out

    def counts(self) -> dict[str, int]:
        c = {s: 0 for s in STATUSES}
        for row in self.conn.execute("SELECT status, COUNT(*) AS n FROM runs GROUP BY status"):
            c[row["status"]] = row["n"]
        return c


class _Tx:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False
