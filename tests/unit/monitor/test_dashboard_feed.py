"""The live feed folds replayed state silently and broadcasts what happens afterwards."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from libs.common.clock import FixedClock
from libs.common.messages import ControlKey, ControlSet, encode
from libs.common.topics import CONTROL, FILLS
from services.monitor.dashboard.feed import LiveFeed
from services.monitor.dashboard.hub import Hub, HubClient
from tests.factories import T0, make_fill

CONTROL_TP = TopicPartition(CONTROL.name, 0)
FILLS_TP = TopicPartition(FILLS.name, 0)


class _NoStore:
    """The feed must not read the database for these records."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected database read: {name}")


def _record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[],
    )


def _kill(engaged: bool) -> ControlSet:
    return ControlSet(
        ts_event=T0, key=ControlKey.KILL_SWITCH, engaged=engaged, changed_by="desk", reason="why"
    )


def _feed() -> tuple[LiveFeed, Hub, HubClient]:
    hub = Hub(queue_size=16)
    client = hub.connect()
    feed = LiveFeed("unused:9092", hub, _NoStore(), FixedClock(T0), "test")  # type: ignore[arg-type]
    return feed, hub, client


def _drain(client: HubClient) -> list[dict[str, Any]]:
    out = []
    while not client.queue.empty():
        out.append(json.loads(client.queue.get_nowait()))
    return out


async def test_replayed_control_is_folded_without_broadcast() -> None:
    feed, _hub, client = _feed()
    replay_end = {CONTROL_TP: 2}

    await feed._handle(
        {CONTROL_TP: [_record(CONTROL_TP, 0, encode(_kill(True)))]},
        replay_end,
    )

    assert feed.state.safety()["trading_state"] == "HALTED"
    assert _drain(client) == []


async def test_control_after_replay_broadcasts_control_then_safety() -> None:
    feed, _hub, client = _feed()
    replay_end = {CONTROL_TP: 1}
    await feed._handle({CONTROL_TP: [_record(CONTROL_TP, 0, encode(_kill(True)))]}, replay_end)

    await feed._handle({CONTROL_TP: [_record(CONTROL_TP, 1, encode(_kill(False)))]}, replay_end)

    events = _drain(client)
    assert [e["type"] for e in events] == ["control", "safety"]
    assert events[0]["data"]["engaged"] is False
    assert events[1]["data"]["trading_state"] == "ACTIVE"
    assert events[1]["data"]["last_changes"]["kill_switch"]["reason"] == "why"


async def test_undecodable_record_is_skipped_and_the_next_one_still_arrives() -> None:
    feed, _hub, client = _feed()
    fill = make_fill()

    await feed._handle(
        {
            FILLS_TP: [
                _record(FILLS_TP, 10, b'{"type":"FillReported","oops":1}'),
                _record(FILLS_TP, 11, encode(fill)),
            ]
        },
        {},
    )

    events = _drain(client)
    assert [e["type"] for e in events] == ["fill"]
    assert events[0]["data"]["fill_id"] == fill.fill_id
