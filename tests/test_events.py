"""The event log: typed events, indexes, and the durable outbox when the store is down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.embedded import EmbeddedServices
from core.events import EventKind, EventLog


@pytest.fixture
def own_mongo(tmp_path: Path):
    """A MongoDB-wire server of this test alone, so the test may stop and restart it."""
    svc = EmbeddedServices(tmp_path / "d")
    svc.acquire(("mongo",))
    yield svc
    svc.release()


async def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_events_survive_a_store_outage_exactly_once(own_mongo, tmp_path: Path) -> None:
    mongo = own_mongo.servers["mongo"]
    events = EventLog.from_url(mongo.url(), tmp_path / "outbox.sqlite")
    events.retry_delay = 0.1
    await events.ensure_indexes()
    events.start()
    first = events.log(EventKind.onboarding_pick, 1, track_id=10)
    await _wait(lambda: _count(events, {"_id": first}, 1))

    mongo.stop()
    ids = [events.log(EventKind.rec_added, 2, track_id=i) for i in range(25)]
    await asyncio.sleep(0.5)
    assert len(events.outbox) == 25  # waiting on local disk, nothing lost

    mongo.start()
    await _wait(lambda: _count(events, {"owner": 2}, 25))
    docs = await events.find(owner=2)
    assert sorted(d["_id"] for d in docs) == sorted(ids)
    assert len(events.outbox) == 0
    await events.close()


async def test_outbox_survives_a_restart_of_the_process(own_mongo, tmp_path: Path) -> None:
    mongo = own_mongo.servers["mongo"]
    mongo.stop()
    events = EventLog.from_url(mongo.url(), tmp_path / "outbox.sqlite")
    eid = events.log(EventKind.veto, 3, track_id=7)
    await events.close(flush_timeout=0.5)  # store down: the event stays on disk

    mongo.start()
    again = EventLog.from_url(mongo.url(), tmp_path / "outbox.sqlite")
    assert len(again.outbox) == 1
    assert await again.flush() == 1
    assert await again.flush() == 0
    docs = await again.find(owner=3)
    assert [d["_id"] for d in docs] == [eid]
    assert docs[0]["kind"] == "veto" and docs[0]["track_id"] == 7
    await again.close()


async def test_indexes_and_unknown_kind(services, tmp_path: Path) -> None:
    events = EventLog.from_url(services.mongodb_url, tmp_path / "o.sqlite")
    await events.ensure_indexes()
    keys = [list(dict(ix["key"])) async for ix in await events.coll.list_indexes()]
    assert ["owner", "ts"] in keys
    assert ["kind", "ts"] in keys
    with pytest.raises(ValueError):
        events.log("not_a_kind", 1)
    await events.close()


async def _count(events: EventLog, query: dict, expected: int) -> bool:
    return await events.coll.count_documents(query) == expected
