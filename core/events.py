"""Event log in the MongoDB-wire store, with a durable local outbox.

`EventLog.log()` never waits on the store: the event goes into a SQLite outbox on local disk
(a few microseconds) and a background flusher moves outbox rows to MongoDB. Each event carries
its own `_id`, so a flush retried after a lost acknowledgement cannot insert it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, PyMongoError

log = logging.getLogger(__name__)

COLLECTION = "events"
_FLUSH_BATCH = 500


class EventKind(StrEnum):
    onboarding_pick = "onboarding_pick"
    playlist_selected = "playlist_selected"
    ocr_import = "ocr_import"
    rec_shown = "rec_shown"
    rec_added = "rec_added"
    rec_skipped = "rec_skipped"
    veto = "veto"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(f"cannot log {type(value).__name__}")


def _json_hook(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$dt"}:
        return datetime.fromisoformat(obj["$dt"])
    return obj


class Outbox:
    """Append-only local queue (SQLite, WAL) shared by threads of one process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, doc TEXT NOT NULL)"
        )
        self._lock = threading.Lock()

    def put(self, doc: Mapping[str, Any]) -> None:
        raw = json.dumps(doc, default=_json_default, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT INTO outbox (doc) VALUES (?)", (raw,))

    def peek(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, doc FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(seq, json.loads(doc, object_hook=_json_hook)) for seq, doc in rows]

    def delete_upto(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq <= ?", (seq,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class EventLog:
    def __init__(self, client: AsyncMongoClient, outbox_path: Path, db_name: str | None = None):
        self.client = client
        self.db = client.get_default_database(db_name or "tys")
        self.coll = self.db[COLLECTION]
        self.outbox = Outbox(outbox_path)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.retry_delay = 0.5

    @classmethod
    def from_url(cls, url: str, outbox_path: Path) -> EventLog:
        client: AsyncMongoClient = AsyncMongoClient(
            url, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000, tz_aware=True
        )
        return cls(client, outbox_path)

    async def ensure_indexes(self) -> None:
        await self.coll.create_index([("owner", ASCENDING), ("ts", DESCENDING)], name="owner_ts")
        await self.coll.create_index([("kind", ASCENDING), ("ts", DESCENDING)], name="kind_ts")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._flusher(), name="event-outbox-flusher")

    def log(self, kind: EventKind | str, owner: int | None, **data: Any) -> str:
        """Record an event; returns its id. Never raises because the store is down."""
        event_id = uuid.uuid4().hex
        doc = {
            "_id": event_id,
            "kind": str(EventKind(kind)),
            "owner": owner,
            "ts": datetime.now(UTC),
            **data,
        }
        self.outbox.put(doc)
        self._wake.set()
        return event_id

    async def flush(self) -> int:
        """Move everything in the outbox to the store; returns how many were written."""
        written = 0
        while True:
            rows = self.outbox.peek(_FLUSH_BATCH)
            if not rows:
                return written
            docs = [doc for _, doc in rows]
            try:
                await self.coll.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                # Duplicate _id means an earlier attempt landed but its ack was lost: fine.
                others = [e for e in exc.details.get("writeErrors", []) if e.get("code") != 11000]
                if others:
                    raise
            written += len(docs)
            self.outbox.delete_upto(rows[-1][0])

    async def _flusher(self) -> None:
        delay = self.retry_delay
        while not self._closing:
            try:
                await self.flush()
                delay = self.retry_delay
                self._wake.clear()
                if len(self.outbox):
                    continue
                await self._wake.wait()
            except asyncio.CancelledError:
                raise
            except PyMongoError as exc:
                log.warning(
                    "event store unavailable (%s); %d events wait in the outbox",
                    type(exc).__name__,
                    len(self.outbox),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            except Exception:
                log.exception("event flusher error")
                await asyncio.sleep(delay)

    async def close(self, flush_timeout: float = 3.0) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Best effort: whatever cannot be written now stays in the outbox for the next start.
        with contextlib.suppress(PyMongoError, TimeoutError, OSError):
            await asyncio.wait_for(self.flush(), flush_timeout)
        self.outbox.close()
        await self.client.close()

    # --- reading (stats, training) ------------------------------------------------------
    async def find(
        self,
        *,
        owner: int | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if owner is not None:
            query["owner"] = owner
        if kind is not None:
            query["kind"] = kind
        if since is not None:
            query["ts"] = {"$gte": since}
        cursor = self.coll.find(query).sort("ts", ASCENDING)
        if limit:
            cursor = cursor.limit(limit)
        return [doc async for doc in cursor]

    async def count(self, **query: Any) -> int:
        return await self.coll.count_documents(query)
