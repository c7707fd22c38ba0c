"""What the zones API announces beside ``rule.changed``: ``zone.changed``, ``hold.started``, ``hold.ended``."""

import pytest_twisted

UPSTAIRS = {"name": "Upstairs", "mode": "heat", "default_heat_setpoint": 17.0}


def announced(api, *topics):
    return [(event.topic, dict(event.data)) for event in api.published if event.topic in topics]


@pytest_twisted.ensureDeferred
async def test_a_zone_written_and_deleted_is_announced_and_its_timeline_still_hears_of_it(api):
    assert (await api.put("/v1/zones/upstairs", UPSTAIRS))[0] == 201
    assert (await api.put("/v1/zones/upstairs", {**UPSTAIRS, "name": "Up"}))[0] == 200
    assert (await api.delete("/v1/zones/upstairs"))[0] == 204
    assert announced(api, "zone.changed") == [
        ("zone.changed", {"zone": "upstairs", "change": "created"}),
        ("zone.changed", {"zone": "upstairs", "change": "updated"}),
        ("zone.changed", {"zone": "upstairs", "change": "deleted"}),
    ]
    rule_changes = announced(api, "rule.changed")
    assert len(rule_changes) == 3 and {data["kind"] for _, data in rule_changes} == {"zone"}


@pytest_twisted.ensureDeferred
async def test_a_refused_zone_change_announces_nothing(api):
    assert (await api.put("/v1/zones/upstairs", {"quorum": 5}))[0] == 422
    assert (await api.delete("/v1/zones/default"))[0] == 409
    assert announced(api, "zone.changed") == []


@pytest_twisted.ensureDeferred
async def test_a_hold_set_and_removed_is_announced(api):
    code, hold, _ = await api.post("/v1/zones/default/hold", {"heat_setpoint": 22.0, "duration": "PT2H"})
    assert code == 201
    assert (await api.delete("/v1/zones/default/hold"))[0] == 204
    assert (await api.delete("/v1/zones/default/hold"))[0] == 404
    assert announced(api, "hold.started", "hold.ended") == [
        ("hold.started", {"zone": "default", "hold": hold}),
        ("hold.ended", {"zone": "default", "reason": "deleted"}),
    ]
