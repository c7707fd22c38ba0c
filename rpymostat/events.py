"""The engine's in-process event bus: one event for every state change.

Storage writes announce themselves here after they are durable, so later
parts (history views, MQTT discovery, metrics, alerts) subscribe instead of
being wired into every handler.  A failing subscriber is logged and never
breaks the write that published the event.
"""

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from twisted.logger import Logger

log = Logger()


@dataclasses.dataclass(frozen=True)
class Event:
    """Something changed: ``topic`` says what (``"sensor.reading"``), ``at`` when (epoch s)."""

    topic: str
    at: float
    data: Mapping[str, Any]


class EventBus:
    """Synchronous publish/subscribe between parts of one engine process."""

    def __init__(self):
        self._subscribers = []

    def subscribe(self, callback: Callable[[Event], Any]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def publish(self, topic: str, at: float, **data) -> Event:
        """Deliver an event to every subscriber, in subscription order."""
        event = Event(topic, at, data)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.failure("event subscriber failed on {topic}", topic=topic)
        return event
