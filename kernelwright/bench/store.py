"""SQLite store of bench results: one row per (bench, problem) plus its attempts.

Problem rows move pending -> running -> done | error. A re-run of the same bench id skips
done problems; rows left `running` by an interrupted bench go back to pending on open.
Only the coordinating process writes (workers return results to it), so one connection is enough.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS benches (
    bench_id TEXT PRIMARY KEY, suite TEXT, created_at REAL, updated_at REAL,
    finished_at REAL, config TEXT, environment TEXT
);
CREATE TABLE IF NOT EXISTS problems (
    bench_id TEXT, problem TEXT, path TEXT, status TEXT DEFAULT 'pending',
    solved INTEGER DEFAULT 0, best_status TEXT, speedup_eager REAL, speedup_compile REAL,
    best_median_ms REAL, timing_meaningful INTEGER DEFAULT 0, time_to_first_correct REAL,
    time_to_best REAL, elapsed_s REAL, n_attempts INTEGER DEFAULT 0, best_kernel_path TEXT,
    run_id TEXT, device TEXT, worker TEXT, started_at REAL, finished_at REAL, error TEXT,
    tokens INTEGER DEFAULT 0, stop_reason TEXT, category TEXT, correct_strict INTEGER, correct_kernelbench INTEGER,
    PRIMARY KEY (bench_id, problem)
);
CREATE TABLE IF NOT EXISTS attempts (
    bench_id TEXT, problem TEXT, attempt INTEGER, iteration INTEGER, strategy TEXT, coder TEXT,
    status TEXT, speedup_eager REAL, speedup_compile REAL, median_ms REAL,
    started_at REAL, finished_at REAL,
    PRIMARY KEY (bench_id, problem, attempt)
);
CREATE TABLE IF NOT EXISTS sessions (
    bench_id TEXT, started_at REAL, finished_at REAL, jobs INTEGER, slots TEXT, stats TEXT
);
CREATE TABLE IF NOT EXISTS broken (
    bench_id TEXT, path TEXT, message TEXT, PRIMARY KEY (bench_id, path)
);
"""

PROBLEM_FIELDS = (
    "status", "solved", "best_status", "speedup_eager", "speedup_compile", "best_median_ms",
    "timing_meaningful", "time_to_first_correct", "time_to_best", "elapsed_s", "n_attempts",
    "best_kernel_path", "run_id", "device", "worker", "started_at", "finished_at", "error",
    "tokens", "stop_reason", "category", "correct_strict", "correct_kernelbench",
)
# columns newer than some stores on disk
ADDED_COLUMNS = {"problems": {"category": "TEXT", "correct_strict": "INTEGER", "correct_kernelbench": "INTEGER"}}
ATTEMPT_FIELDS = (
    "attempt", "iteration", "strategy", "coder", "status", "speedup_eager", "speedup_compile",
    "median_ms", "started_at", "finished_at",
)


class BenchStore:
    """Results of every bench kept in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._db:
            self._db.executescript(SCHEMA)
            for table, columns in ADDED_COLUMNS.items():
                have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                for name, kind in columns.items():
                    if name not in have:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, args: Iterable[Any] = ()) -> None:
        with self._lock, self._db:
            self._db.execute(sql, tuple(args))

    # --- benches -------------------------------------------------------------------------
    def open_bench(self, bench_id: str, suite: str, config: dict, environment: dict) -> bool:
        """Create the bench row if new (returns True) or keep the existing one (False)."""
        now = time.time()
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO benches VALUES (?,?,?,?,NULL,?,?)",
                (bench_id, suite, now, now, json.dumps(config), json.dumps(environment)),
            )
            created = cur.rowcount == 1
            if not created:
                self._db.execute("UPDATE benches SET updated_at=?, finished_at=NULL WHERE bench_id=?", (now, bench_id))
        return created

    def finish_bench(self, bench_id: str) -> None:
        self._write("UPDATE benches SET finished_at=?, updated_at=? WHERE bench_id=?",
                    (time.time(), time.time(), bench_id))

    def bench(self, bench_id: str) -> dict | None:
        row = self._db.execute("SELECT * FROM benches WHERE bench_id=?", (bench_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["config"] = json.loads(out["config"] or "{}")
        out["environment"] = json.loads(out["environment"] or "{}")
        return out

    def bench_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT bench_id FROM benches ORDER BY created_at")]

    # --- problems ------------------------------------------------------------------------
    def add_problems(self, bench_id: str, problems: Iterable[tuple[str, str]]) -> None:
        """Insert (key, path) rows as pending; existing rows keep their state."""
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO problems (bench_id, problem, path, status) VALUES (?,?,?,'pending')",
                [(bench_id, key, path) for key, path in problems],
            )

    def add_broken(self, bench_id: str, broken: Iterable[tuple[str, str]]) -> None:
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO broken VALUES (?,?,?)", [(bench_id, p, m) for p, m in broken])

    def broken(self, bench_id: str) -> list[dict]:
        return [dict(r) for r in self._db.execute("SELECT path, message FROM broken WHERE bench_id=?", (bench_id,))]

    def reset_interrupted(self, bench_id: str, retry_errors: bool = False) -> int:
        """Put problems left running (and, if asked, failed with an error) back to pending."""
        states = ("running", "error") if retry_errors else ("running",)
        marks = ",".join("?" * len(states))
        with self._lock, self._db:
            cur = self._db.execute(
                f"UPDATE problems SET status='pending', started_at=NULL, worker=NULL "
                f"WHERE bench_id=? AND status IN ({marks})", (bench_id, *states),
            )
        return cur.rowcount

    def pending(self, bench_id: str) -> list[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT problem, path FROM problems WHERE bench_id=? AND status='pending' ORDER BY rowid", (bench_id,)
        )
        return [(r[0], r[1]) for r in rows]

    def mark_running(self, bench_id: str, problem: str, worker: str, device: str) -> None:
        self._write(
            "UPDATE problems SET status='running', worker=?, device=?, started_at=? WHERE bench_id=? AND problem=?",
            (worker, device, time.time(), bench_id, problem),
        )

    def record(self, bench_id: str, problem: str, fields: dict, attempts: list[dict] | None = None) -> None:
        """Store a finished problem (fields from PROBLEM_FIELDS) and replace its attempts."""
        unknown = set(fields) - set(PROBLEM_FIELDS)
        if unknown:
            raise KeyError(f"unknown problem fields {sorted(unknown)}; allowed: {PROBLEM_FIELDS}")
        sets = ", ".join(f"{k}=?" for k in fields)
        with self._lock, self._db:
            self._db.execute(f"UPDATE problems SET {sets} WHERE bench_id=? AND problem=?",
                             (*fields.values(), bench_id, problem))
            if attempts is not None:
                self._db.execute("DELETE FROM attempts WHERE bench_id=? AND problem=?", (bench_id, problem))
                self._db.executemany(
                    f"INSERT INTO attempts (bench_id, problem, {', '.join(ATTEMPT_FIELDS)}) "
                    f"VALUES (?,?,{','.join('?' * len(ATTEMPT_FIELDS))})",
                    [(bench_id, problem, *(a.get(k) for k in ATTEMPT_FIELDS)) for a in attempts],
                )

    def problems(self, bench_id: str) -> list[dict]:
        rows = self._db.execute("SELECT * FROM problems WHERE bench_id=? ORDER BY rowid", (bench_id,))
        return [dict(r) for r in rows]

    def attempts(self, bench_id: str, problem: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM attempts WHERE bench_id=?", [bench_id]
        if problem is not None:
            sql, args = sql + " AND problem=?", args + [problem]
        return [dict(r) for r in self._db.execute(sql + " ORDER BY problem, attempt", args)]


    # --- sessions (one per invocation) -------------------------------------------------
    def add_session(self, bench_id: str, started_at: float, finished_at: float, jobs: int, slots: list[str],
                    stats: dict) -> None:
        """Record one invocation of the bench: wall time, slots, worker and GPU busy shares."""
        self._write(
            "INSERT INTO sessions VALUES (?,?,?,?,?,?)",
            (bench_id, started_at, finished_at, jobs, json.dumps(slots), json.dumps(stats)),
        )

    def sessions(self, bench_id: str) -> list[dict]:
        rows = self._db.execute("SELECT * FROM sessions WHERE bench_id=? ORDER BY started_at", (bench_id,))
        out = []
        for row in rows:
            item = dict(row)
            item["slots"] = json.loads(item["slots"] or "[]")
            item["stats"] = json.loads(item["stats"] or "{}")
            out.append(item)
        return out
