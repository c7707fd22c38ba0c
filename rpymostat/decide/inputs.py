"""A zone's decision inputs, read once into one frozen value.

The loop gathers a zone's stored settings (raw JSON), the timeline segment in
force, the sensors' newest readings, the outputs' real states and the
installed plugins; :func:`zone_inputs` turns them into a :class:`ZoneInputs`,
so the decision itself (:func:`rpymostat.decide.evaluate.decide`) reads no
JSON, takes two arguments and can be reasoned about field by field.
"""

import dataclasses
from collections.abc import Mapping

from rpymostat.decide.safety import Limits
from rpymostat.decide.state import COOL, HEAT, OutputState
from rpymostat.decide.temperature import Sample


@dataclasses.dataclass(frozen=True)
class ZoneInputs:
    """Everything one zone's decision depends on.

    ``weights`` and ``quorum`` are those in force (a rule's sensors win over
    the zone's, and then the quorum is capped by how many it names);
    ``zone_sensors`` are the zone's own, which frost protection watches too.
    ``samples``, the outputs' times and the ``now`` of the decision are on
    one clock, which should be monotonic.  ``plugin`` is the installed
    decision plugin named ``plugin_name``, or None when it is not installed.
    """

    zone: str
    mode: str
    weights: Mapping[str, float]
    quorum: int
    zone_sensors: Mapping[str, float]
    segment: object | None
    target_error: str | None
    samples: Mapping[str, Sample]
    outputs: Mapping[str, OutputState]
    plugin_name: str
    plugin: object | None
    plugin_config: Mapping
    limits: Limits = Limits()
    per_output: Mapping[str, Limits] = dataclasses.field(default_factory=dict)
    stale_after: float = 300.0


def zone_inputs(
    zone, settings, segment, samples, output_states, plugins, limits=Limits(), stale_after=300.0, target_error=None
) -> ZoneInputs:
    """The :class:`ZoneInputs` of ``zone`` from its full stored ``settings`` document.

    ``segment`` is the timeline segment in force (None with ``target_error``
    when there is no target); ``samples`` maps sensor ids to
    :class:`~.temperature.Sample`; ``output_states`` maps ``heat``/``cool``
    to :class:`~.state.OutputState`; ``plugins`` maps plugin names to
    instances; ``settings["safety"]`` refines ``limits`` per output.
    """
    weights, quorum = settings["sensors"], settings.get("quorum", 1)
    if segment is not None and segment.setpoints.sensors:
        weights = segment.setpoints.sensors
        quorum = min(quorum, len(weights))  # a rule naming one sensor must not leave the zone safe-stated
    decision = settings["decision"]
    return ZoneInputs(
        zone=zone,
        mode=settings["mode"],
        weights=dict(weights),
        quorum=quorum,
        zone_sensors=dict(settings["sensors"]),
        segment=segment,
        target_error=target_error,
        samples=samples,
        outputs={name: output_states[name] for name in (HEAT, COOL) if name in output_states},
        plugin_name=decision["plugin"],
        plugin=plugins.get(decision["plugin"]),
        plugin_config=decision.get("config", {}),
        limits=limits,
        per_output={name: dataclasses.replace(limits, **own) for name, own in settings.get("safety", {}).items()},
        stale_after=stale_after,
    )
