"""Every sensor's newest reading, and how long ago the engine received it.

Freshness is judged by the engine's own receipt, never by the sensor host's
timestamp: a host whose clock runs five minutes behind would otherwise look
stale forever, and one running ahead would look fresh long after it died.
Receipt is measured on the engine's monotonic clock, so a wall clock stepped
back (NTP on a Pi without a real-time clock) cannot keep a dead sensor's last
value alive, and a step forward cannot make every sensor stale at once.

The table is kept in memory from the ``sensor.readings`` events, so the loop
reads no sensor from storage on its ticks; it is loaded once at start, when
each stored receipt time (wall clock, the only time that survives a restart)
is turned into an age on the monotonic clock.  A reading older (by its own
timestamp) than the one held does not replace it, exactly as storage keeps
the newest value: a backlog drained after an outage neither moves a value
back nor makes an old sensor look fresh.
"""

from rpymostat.decide.temperature import Sample, is_jump


class SensorSamples:
    """``{sensor_id: Sample}`` with ``seen_at`` on the monotonic clock, each with the one it replaced."""

    def __init__(self):
        self._newest = {}  # sensor_id -> (reading timestamp, Sample)

    async def load(self, storage, wall_now, monotonic_now):
        """Take every stored sensor's value; call once before the first decision."""
        for record in await storage.sensors():
            received = record.received_at if record.received_at is not None else record.last_seen
            age = max(0.0, wall_now - received)  # a clock set back since: counts as just received
            self._newest[record.sensor_id] = (
                record.last_seen,
                Sample(record.value, monotonic_now - age, record.sensor_type),
            )

    def received(self, readings, monotonic_now):
        """Readings the engine accepted just now (a ``sensor.readings`` event)."""
        for reading in readings:
            held = self._newest.get(reading.sensor_id)
            if held is None or reading.timestamp >= held[0]:
                self._newest[reading.sensor_id] = (reading.timestamp, _next(held, reading, monotonic_now))

    def forget(self, sensor_id):
        """The sensor was deleted."""
        self._newest.pop(sensor_id, None)

    def samples(self):
        """``{sensor_id: Sample}`` for the decision, received on the monotonic clock."""
        return {sensor_id: sample for sensor_id, (_, sample) in self._newest.items()}


def _next(held, reading, monotonic_now):
    """The sample for ``reading``, linked to the last trusted one before it.

    A jump keeps the trusted sample and marks the sensor suspect until a
    reading comes back near it; anything else becomes the new trusted one.
    """
    if held is None:
        return Sample(reading.value, monotonic_now, reading.sensor_type)
    last = held[1]
    if last.suspect:
        trusted, suspect = last.previous, True  # the last sample was itself a jump
    else:
        trusted, suspect = Sample(last.value, last.seen_at), False
    if reading.value is None:
        return Sample(None, monotonic_now, reading.sensor_type, trusted, suspect)
    if is_jump(reading.value, monotonic_now, trusted, suspect):
        return Sample(reading.value, monotonic_now, reading.sensor_type, trusted, True)
    return Sample(reading.value, monotonic_now, reading.sensor_type, trusted, False)
