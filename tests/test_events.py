"""The engine's event bus."""

from twisted.logger import globalLogPublisher

from rpymostat.events import Event, EventBus


def test_subscribers_get_events_in_order_until_unsubscribed():
    bus = EventBus()
    first, second = [], []
    bus.subscribe(first.append)
    unsubscribe = bus.subscribe(second.append)
    event = bus.publish("sensor.readings", 10.0, host_id="h")
    assert event == Event("sensor.readings", 10.0, {"host_id": "h"})
    unsubscribe()
    bus.publish("sensor.changed", 11.0)
    assert [e.topic for e in first] == ["sensor.readings", "sensor.changed"]
    assert [e.topic for e in second] == ["sensor.readings"]


def test_failing_subscriber_is_logged_and_others_still_called():
    bus = EventBus()
    received, logged = [], []

    def broken(event):
        raise KeyError("oops")

    bus.subscribe(broken)
    bus.subscribe(received.append)
    globalLogPublisher.addObserver(logged.append)
    try:
        bus.publish("sensor.readings", 1.0)
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert [e.topic for e in received] == ["sensor.readings"]
    [failure] = [e["log_failure"] for e in logged if "log_failure" in e]
    assert failure.check(KeyError)
