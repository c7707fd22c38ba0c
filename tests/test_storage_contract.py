"""The storage contract: every IStorage implementation, fake included, passes these."""

import pytest
import pytest_twisted
from zope.interface.verify import verifyObject

from rpymostat.storage.interface import (
    HistoryEntry,
    IStorage,
    OutputStateRecord,
    Reading,
    RelayUnitRecord,
    RuleRecord,
    RunRecord,
    RunSample,
    SensorRecord,
    StorageError,
    ZoneRecord,
)

T0 = 1795608000.0


def reading(sensor_id="28-0000075565ad", value=20.5, timestamp=T0, **fields):
    return Reading(
        sensor_id=sensor_id,
        sensor_type=fields.pop("sensor_type", "DS18B20"),
        value=value,
        timestamp=timestamp,
        **fields,
    )


def test_provides_interface(storage):
    assert verifyObject(IStorage, storage)
    assert storage.description


@pytest_twisted.ensureDeferred
async def test_ping_answers_true_when_open(storage):
    assert await storage.ping() is True


@pytest_twisted.ensureDeferred
async def test_empty_storage_has_no_sensors(storage):
    assert await storage.sensors() == []
    assert await storage.sensor("28-unknown") is None
    assert await storage.history("28-unknown") == []


@pytest_twisted.ensureDeferred
async def test_record_readings_creates_sensors(storage):
    ids = await storage.record_readings(
        "pi-kitchen",
        [
            reading("28-b", 19.25, alias="window", extra="ok"),
            reading("28-a", 21.0),
        ],
    )
    assert sorted(ids) == ["28-a", "28-b"]
    assert await storage.sensors() == [
        SensorRecord("28-a", "pi-kitchen", "DS18B20", None, None, 21.0, T0, None, T0),
        SensorRecord("28-b", "pi-kitchen", "DS18B20", "window", "ok", 19.25, T0, None, T0),
    ]
    assert await storage.sensor("28-b") == SensorRecord(
        "28-b", "pi-kitchen", "DS18B20", "window", "ok", 19.25, T0, None, T0
    )


@pytest_twisted.ensureDeferred
async def test_empty_batch_stores_nothing(storage):
    assert await storage.record_readings("pi-kitchen", []) == []
    assert await storage.sensors() == []


@pytest_twisted.ensureDeferred
async def test_every_reading_is_kept_in_history(storage):
    await storage.record_readings("h", [reading(value=20.0, timestamp=T0)])
    await storage.record_readings("h", [reading(value=20.5, timestamp=T0 + 30)])
    await storage.record_readings("h", [reading(value=None, timestamp=T0 + 60, extra="crc")])
    assert await storage.history("28-0000075565ad") == [
        HistoryEntry("28-0000075565ad", T0, 20.0, None),
        HistoryEntry("28-0000075565ad", T0 + 30, 20.5, None),
        HistoryEntry("28-0000075565ad", T0 + 60, None, "crc"),
    ]
    current = await storage.sensor("28-0000075565ad")
    assert current.value is None
    assert current.extra == "crc"
    assert current.last_seen == T0 + 60


@pytest_twisted.ensureDeferred
async def test_history_window_is_start_inclusive_end_exclusive(storage):
    for offset in (0, 30, 60, 90):
        await storage.record_readings("h", [reading(value=offset, timestamp=T0 + offset)])
    window = await storage.history("28-0000075565ad", start=T0 + 30, end=T0 + 90)
    assert [entry.timestamp for entry in window] == [T0 + 30, T0 + 60]
    assert [e.timestamp for e in await storage.history("28-0000075565ad", start=T0 + 60)] == [
        T0 + 60,
        T0 + 90,
    ]
    assert [e.timestamp for e in await storage.history("28-0000075565ad", end=T0 + 30)] == [T0]


@pytest_twisted.ensureDeferred
async def test_redelivered_reading_is_stored_once(storage):
    await storage.record_readings("h", [reading(value=20.0)])
    await storage.record_readings("h", [reading(value=20.0)])
    assert len(await storage.history("28-0000075565ad")) == 1


@pytest_twisted.ensureDeferred
async def test_late_buffered_reading_does_not_replace_newer_value(storage):
    await storage.record_readings("h", [reading(value=22.0, timestamp=T0 + 120)])
    await storage.record_readings("h", [reading(value=18.0, timestamp=T0)])
    current = await storage.sensor("28-0000075565ad")
    assert (current.value, current.last_seen) == (22.0, T0 + 120)
    history = await storage.history("28-0000075565ad")
    assert [(e.timestamp, e.value) for e in history] == [(T0, 18.0), (T0 + 120, 22.0)]


@pytest_twisted.ensureDeferred
async def test_sensor_moved_to_another_host_follows_it(storage):
    await storage.record_readings("old-host", [reading(timestamp=T0)])
    await storage.record_readings("new-host", [reading(timestamp=T0 + 30, alias="moved")])
    current = await storage.sensor("28-0000075565ad")
    assert (current.host_id, current.alias) == ("new-host", "moved")


@pytest_twisted.ensureDeferred
async def test_name_is_kept_across_readings(storage):
    await storage.record_readings("h", [reading(timestamp=T0)])
    named = await storage.set_sensor_name("28-0000075565ad", "Living room")
    assert named.name == "Living room"
    await storage.record_readings("h", [reading(timestamp=T0 + 30, value=21.0)])
    current = await storage.sensor("28-0000075565ad")
    assert (current.name, current.value) == ("Living room", 21.0)
    cleared = await storage.set_sensor_name("28-0000075565ad", None)
    assert cleared.name is None


@pytest_twisted.ensureDeferred
async def test_naming_unknown_sensor_creates_nothing(storage):
    assert await storage.set_sensor_name("28-unknown", "Ghost") is None
    assert await storage.sensors() == []


@pytest_twisted.ensureDeferred
async def test_current_value_keeps_its_precise_time_and_history_the_millisecond(storage):
    precise = T0 + 0.923456
    await storage.record_readings("h", [reading(timestamp=precise, value=20.123)])
    current = await storage.sensor("28-0000075565ad")
    assert (current.last_seen, current.value) == (precise, 20.123)
    assert await storage.history("28-0000075565ad") == [HistoryEntry("28-0000075565ad", T0 + 0.923, 20.12, None)]


@pytest_twisted.ensureDeferred
async def test_closed_storage_reports_down_and_refuses_work(backend_name, request, tmp_path):
    from twisted.internet import reactor

    from tests.conftest import make_storage

    backend = make_storage(backend_name, request, tmp_path, reactor)
    await backend.open()
    await backend.close()
    await backend.close()
    assert await backend.ping() is False
    with pytest.raises(StorageError):
        await backend.sensors()
    with pytest.raises(StorageError):
        await backend.record_readings("h", [reading()])


def rule_record(kind="schedule", rule_id="morning", zone="default", changed_at=T0, **document):
    body = {"name": rule_id, "start": "0 6 * * 1-5", "duration": "PT2H", "heat_setpoint": 21.5}
    body.update(document)
    return RuleRecord(kind, rule_id, zone, body, changed_at)


@pytest_twisted.ensureDeferred
async def test_rules_are_stored_listed_and_replaced(storage):
    assert await storage.rules("schedule") == []
    await storage.put_rule(rule_record(rule_id="b", zone="upstairs"))
    await storage.put_rule(rule_record(rule_id="a", sensors={"28-a": 1.0, "28-b": 0.5}))
    await storage.put_rule(rule_record(kind="override", rule_id="a", start="2026-12-21T00:00:00+01:00"))
    assert [r.rule_id for r in await storage.rules("schedule")] == ["a", "b"]
    assert [r.rule_id for r in await storage.rules("schedule", zone="upstairs")] == ["b"]
    assert await storage.rule("schedule", "a") == rule_record(rule_id="a", sensors={"28-a": 1.0, "28-b": 0.5})
    assert (await storage.rule("override", "a")).document["start"] == "2026-12-21T00:00:00+01:00"

    await storage.put_rule(rule_record(rule_id="a", changed_at=T0 + 60.5, heat_setpoint=19.0, enabled=False))
    replaced = await storage.rule("schedule", "a")
    assert (replaced.changed_at, replaced.document["heat_setpoint"], replaced.document["enabled"]) == (
        T0 + 60.5,
        19.0,
        False,
    )
    assert len(await storage.rules("schedule")) == 2


@pytest_twisted.ensureDeferred
async def test_stored_rule_document_is_a_copy(storage):
    record = rule_record(sensors={"28-a": 1.0})
    await storage.put_rule(record)
    record.document["sensors"]["28-a"] = 99.0
    assert (await storage.rule("schedule", "morning")).document["sensors"] == {"28-a": 1.0}


@pytest_twisted.ensureDeferred
async def test_deleting_rules(storage):
    await storage.put_rule(rule_record())
    assert await storage.delete_rule("schedule", "morning") is True
    assert await storage.delete_rule("schedule", "morning") is False
    assert await storage.rule("schedule", "morning") is None
    assert await storage.rules("schedule") == []


@pytest_twisted.ensureDeferred
async def test_received_at_is_the_engines_clock_and_moves_with_the_value(storage):
    await storage.record_readings("h", [reading(value=20.0, timestamp=T0 + 60)], received_at=T0 + 5.25)
    current = await storage.sensor("28-0000075565ad")
    assert (current.value, current.last_seen, current.received_at) == (20.0, T0 + 60, T0 + 5.25)
    # A late buffered reading goes to history only: the current value and its receipt stay.
    await storage.record_readings("h", [reading(value=18.0, timestamp=T0)], received_at=T0 + 90)
    current = await storage.sensor("28-0000075565ad")
    assert (current.value, current.received_at) == (20.0, T0 + 5.25)
    await storage.record_readings("h", [reading(value=21.0, timestamp=T0 + 120)], received_at=T0 + 121.5)
    assert (await storage.sensors())[0].received_at == T0 + 121.5


@pytest_twisted.ensureDeferred
async def test_without_received_at_the_readings_timestamp_stands_in(storage):
    await storage.record_readings("h", [reading(timestamp=T0 + 30)])
    assert (await storage.sensor("28-0000075565ad")).received_at == T0 + 30


@pytest_twisted.ensureDeferred
async def test_several_readings_of_one_sensor_in_a_batch_newest_is_current(storage):
    ids = await storage.record_readings(
        "h",
        [
            reading("28-a", 21.0, timestamp=T0 + 60),
            reading("28-b", 15.0, timestamp=T0),
            reading("28-a", 19.0, timestamp=T0),
            reading("28-a", 22.0, timestamp=T0 + 120),
            reading("28-a", 20.0, timestamp=T0 + 30),
        ],
        received_at=T0 + 200,
    )
    assert ids == ["28-a", "28-b", "28-a", "28-a", "28-a"]
    current = await storage.sensor("28-a")
    assert (current.value, current.last_seen, current.received_at) == (22.0, T0 + 120, T0 + 200)
    history = await storage.history("28-a")
    assert [(e.timestamp, e.value) for e in history] == [(T0, 19.0), (T0 + 30, 20.0), (T0 + 60, 21.0), (T0 + 120, 22.0)]


@pytest_twisted.ensureDeferred
async def test_deleting_a_sensor_keeps_its_history(storage):
    await storage.record_readings("h", [reading("28-a", 20.0), reading("28-b", 19.0)])
    await storage.set_sensor_name("28-a", "Hall")
    assert await storage.delete_sensor("28-a") is True
    assert await storage.delete_sensor("28-a") is False
    assert await storage.delete_sensor("28-unknown") is False
    assert await storage.sensor("28-a") is None
    assert [s.sensor_id for s in await storage.sensors()] == ["28-b"]
    assert [(e.timestamp, e.value) for e in await storage.history("28-a")] == [(T0, 20.0)]
    # It comes back, unnamed, when its daemon reports it again.
    await storage.record_readings("h", [reading("28-a", 21.0, timestamp=T0 + 30)])
    back = await storage.sensor("28-a")
    assert (back.value, back.name) == (21.0, None)
    assert len(await storage.history("28-a")) == 2


# --- zones, relay units, output states and runs: each kind in its own home ---

LIVING = {"sensors": {"28-a": 1.0, "28-b": 0.5}, "default_heat_setpoint": 20.5, "outputs": {"heat": "pi/r1"}}


@pytest_twisted.ensureDeferred
async def test_zones_are_stored_listed_replaced_and_deleted(storage):
    assert await storage.zones() == []
    assert await storage.zone("living") is None
    assert await storage.put_zone("living", LIVING, T0) == ZoneRecord("living", LIVING, T0)
    await storage.put_zone("attic", {"mode": "cool"}, T0 + 1.5)
    assert await storage.zones() == [ZoneRecord("attic", {"mode": "cool"}, T0 + 1.5), ZoneRecord("living", LIVING, T0)]
    assert await storage.zone("living") == ZoneRecord("living", LIVING, T0)
    await storage.put_zone("living", {"mode": "off"}, T0 + 60.25)
    assert await storage.zone("living") == ZoneRecord("living", {"mode": "off"}, T0 + 60.25)
    assert await storage.delete_zone("living") is True
    assert await storage.delete_zone("living") is False
    assert await storage.zone("living") is None
    assert [zone.name for zone in await storage.zones()] == ["attic"]


@pytest_twisted.ensureDeferred
async def test_zones_are_not_rules_and_rules_are_not_zones(storage):
    await storage.put_zone("living", LIVING, T0)
    await storage.put_rule(rule_record(kind="schedule", rule_id="living", zone="living"))
    assert await storage.rules("zone") == []
    assert await storage.rule("zone", "living") is None
    assert await storage.delete_rule("schedule", "living") is True
    assert await storage.zone("living") == ZoneRecord("living", LIVING, T0)


@pytest_twisted.ensureDeferred
async def test_a_stored_zone_is_a_copy_of_the_callers_document(storage):
    document = {"sensors": {"28-a": 1.0}}
    returned = await storage.put_zone("living", document, T0)
    document["sensors"]["28-a"] = 99.0
    returned.document["sensors"]["28-a"] = 42.0
    assert (await storage.zone("living")).document == {"sensors": {"28-a": 1.0}}


def registration(url="http://192.168.1.20:8089"):
    return {"host_id": "boiler", "url": url, "relays": {"r1": {"type": "sim", "state": False}}}


@pytest_twisted.ensureDeferred
async def test_relay_units_keep_their_latest_registration(storage):
    assert await storage.relay_units() == []
    assert await storage.relay_unit("boiler") is None
    assert await storage.put_relay_unit("boiler", registration(), T0) == RelayUnitRecord("boiler", registration(), T0)
    await storage.put_relay_unit("attic", {"host_id": "attic", "url": "http://a:1", "relays": {}}, T0 + 2.5)
    moved = registration("http://192.168.1.21:8089")
    await storage.put_relay_unit("boiler", moved, T0 + 30.5)
    assert await storage.relay_unit("boiler") == RelayUnitRecord(
        "boiler", registration("http://192.168.1.21:8089"), T0 + 30.5
    )
    assert [(unit.host_id, unit.registered_at) for unit in await storage.relay_units()] == [
        ("attic", T0 + 2.5),
        ("boiler", T0 + 30.5),
    ]
    moved["relays"]["r1"]["state"] = True
    assert (await storage.relay_unit("boiler")).registration["relays"]["r1"]["state"] is False
    assert await storage.rules("control") == []


@pytest_twisted.ensureDeferred
async def test_output_states_are_replaced_per_address(storage):
    assert await storage.output_states() == []
    await storage.put_output_state("pi/r2", False, T0 + 0.125, [])
    await storage.put_output_state("pi/r1", True, T0, [T0 - 1800.5, T0])
    assert await storage.output_states() == [
        OutputStateRecord("pi/r1", True, T0, (T0 - 1800.5, T0)),
        OutputStateRecord("pi/r2", False, T0 + 0.125, ()),
    ]
    await storage.put_output_state("pi/r1", False, T0 + 600, (T0,))
    assert (await storage.output_states())[0] == OutputStateRecord("pi/r1", False, T0 + 600, (T0,))


def run_record(run_id="hall:heat:1", zone="hall", started_at=T0, **fields):
    return RunRecord(
        run_id,
        zone,
        fields.pop("output", "heat"),
        started_at,
        fields.pop("start_temperature", 19.5),
        fields.pop("target", 21.0),
        **fields,
    )


@pytest_twisted.ensureDeferred
async def test_a_run_is_started_sampled_and_ended(storage):
    started = run_record(samples=(RunSample(T0, 19.5),))
    await storage.start_run(started)
    assert await storage.open_runs() == [started]
    assert await storage.add_run_sample("hall:heat:1", T0 + 300.5, None) is True
    assert await storage.add_run_sample("hall:heat:1", T0 + 600, 20.25) is True
    sampled = run_record(samples=(RunSample(T0, 19.5), RunSample(T0 + 300.5, None), RunSample(T0 + 600, 20.25)))
    assert await storage.open_runs() == [sampled]
    assert await storage.end_run("hall:heat:1", T0 + 700, 21.125) is True
    assert await storage.open_runs() == []
    ended = run_record(ended_at=T0 + 700, end_temperature=21.125, samples=sampled.samples)
    assert await storage.runs("hall", 10) == [ended]


@pytest_twisted.ensureDeferred
async def test_a_sample_or_end_of_an_unknown_run_stores_nothing(storage):
    assert await storage.add_run_sample("nowhere", T0, 20.0) is False
    assert await storage.end_run("nowhere", T0, 20.0) is False
    assert await storage.open_runs() == []
    assert await storage.runs("hall", 10) == []


@pytest_twisted.ensureDeferred
async def test_starting_a_run_again_under_its_id_replaces_it_and_its_samples(storage):
    await storage.start_run(run_record(samples=(RunSample(T0, 19.5), RunSample(T0 + 300, 19.75))))
    await storage.end_run("hall:heat:1", T0 + 400, 20.0)
    again = run_record(start_temperature=18.0, samples=(RunSample(T0 + 500, 18.0),))
    await storage.start_run(again)
    assert await storage.runs("hall", 10) == [again]
    assert await storage.open_runs() == [again]


@pytest_twisted.ensureDeferred
async def test_the_runs_of_a_zone_that_started_last_come_first_and_no_more(storage):
    for number, started in enumerate([30.0, 10.0, 50.0, 20.0, 40.0]):
        await storage.start_run(
            run_record(
                f"hall:heat:{number}", started_at=T0 + started, samples=(RunSample(T0 + started, 19.0 + number),)
            )
        )
    await storage.start_run(run_record("attic:heat:9", zone="attic", started_at=T0 + 99.0))
    await storage.end_run("hall:heat:1", T0 + 999.0, 20.0)  # ending late does not make a run newer
    newest = await storage.runs("hall", 3)
    assert [(run.run_id, run.started_at) for run in newest] == [
        ("hall:heat:2", T0 + 50.0),
        ("hall:heat:4", T0 + 40.0),
        ("hall:heat:0", T0 + 30.0),
    ]
    assert [run.samples for run in newest] == [
        (RunSample(T0 + 50.0, 21.0),),
        (RunSample(T0 + 40.0, 23.0),),
        (RunSample(T0 + 30.0, 19.0),),
    ]
    assert [run.run_id for run in await storage.runs("attic", 5)] == ["attic:heat:9"]
    assert await storage.runs("cellar", 5) == []
    assert [run.run_id for run in await storage.open_runs()] == [
        "attic:heat:9",
        "hall:heat:0",
        "hall:heat:2",
        "hall:heat:3",
        "hall:heat:4",
    ]


@pytest_twisted.ensureDeferred
async def test_a_read_queued_while_the_database_closes_fails_as_storage_error(tmp_path):
    """A decision run that reads while the engine shuts down gets a StorageError, not a traceback."""
    from twisted.internet import reactor

    from rpymostat.storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(tmp_path / "db.sqlite3", reactor)
    await storage.open()
    closing = storage.close()
    reading = storage.zones()  # queued behind the disconnect, on the same thread
    await closing
    with pytest.raises(StorageError):
        await reading
