"""Every API input is checked here, against the OpenAPI document's own schemas.

The request schemas in ``openapi.json`` are the single source of truth: the
same JSON Schema that documents a body for client authors validates it in the
engine, so the two cannot disagree.  Each schema is compiled twice: by
fastjsonschema, which accepts a valid body in microseconds (the hot path of
every sensor update), and by jsonschema, the reference implementation, which
judges every body the fast one doubts and words the error.  A test checks
that the fast one never accepts what the reference refuses.  What JSON Schema
cannot say (finite numbers, timestamps with offsets and not before 2000) is
checked in :class:`RequestValidator` right after the schema.  Every failure is
an :class:`~rpymostat.api.errors.InvalidContent` (422) whose message names the
field, as ``sensors.28-0000075565ad.value: ...``; a sensor update is the one
exception, judged reading by reading (see :meth:`RequestValidator.sensor_update`).
"""

import dataclasses
import datetime
import json
import math
from importlib import resources

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from rpymostat.api.errors import InvalidContent, PayloadTooLarge
from rpymostat.protocol import MAX_FUTURE_SKEW_S, MIN_READING_TIMESTAMP
from rpymostat.storage.interface import Reading

OPENAPI_URI = "urn:rpymostat:openapi"


def load_openapi() -> dict:
    """The engine's OpenAPI document, as shipped in the package."""
    return json.loads((resources.files("rpymostat.api") / "openapi.json").read_text("utf-8"))


def field_path(path) -> str:
    """``("sensors", "28-x", "value")`` as ``sensors.28-x.value``; the whole body is ``body``."""
    return ".".join(str(part) for part in path) or "body"


def _has_non_finite(value) -> bool:
    """Whether a NaN or infinity hides anywhere in ``value`` (a quick walk, no paths)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if item - item != 0.0:  # NaN - NaN and inf - inf are NaN
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _non_finite_path(value, path=()):
    """The path of the first NaN or infinite number in ``value``, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite_path(item, path + (key,))
        if found is not None:
            return found
    return None


def _message(error) -> str:
    """jsonschema's message, or the schema's ``x-pattern-error`` where a regex means nothing to people.

    A field marked ``x-secret`` (a pairing or relay unit secret) is never
    echoed back: its error says what is wrong without showing the value.
    """
    if isinstance(error.schema, dict) and error.schema.get("x-secret"):
        return f"is not valid here ({error.validator} check failed; the value is not shown)"
    if error.validator == "pattern" and isinstance(error.schema, dict):
        explanation = error.schema.get("x-pattern-error")
        if explanation:
            return f"{error.instance!r} {explanation}"
    return error.message


def _with_envelope(openapi) -> dict:
    """A copy of ``openapi`` whose schemas also hold :data:`ENVELOPE` (the document served is unchanged)."""
    schemas = dict(openapi["components"]["schemas"])
    envelope = json.loads(json.dumps(schemas["SensorUpdate"]))
    envelope["properties"]["sensors"]["additionalProperties"] = True
    schemas[ENVELOPE] = envelope
    return {**openapi, "components": {**openapi["components"], "schemas": schemas}}


class RequestValidator:
    """Validates request bodies against ``#/components/schemas/<name>`` of the document."""

    def __init__(self, openapi=None):
        self.openapi = openapi if openapi is not None else load_openapi()
        resource = Resource.from_contents(_with_envelope(self.openapi), default_specification=DRAFT202012)
        self._registry = Registry().with_resource(OPENAPI_URI, resource)
        self._fast = {}
        self._reference = {}

    def fast_validator(self, schema_name):
        """fastjsonschema's compiled check of ``#/components/schemas/<schema_name>``."""
        check = self._fast.get(schema_name)
        if check is None:
            definition = {
                "$ref": f"#/components/schemas/{schema_name}",
                "components": self.openapi["components"],
            }
            # Formats and defaults off, as in jsonschema: validate, never change.
            check = fastjsonschema.compile(definition, use_default=False, use_formats=False)
            self._fast[schema_name] = check
        return check

    def reference_validator(self, schema_name):
        """jsonschema's (Draft 2020-12, as OpenAPI 3.1) validator of the same schema."""
        validator = self._reference.get(schema_name)
        if validator is None:
            schema = {"$ref": f"{OPENAPI_URI}#/components/schemas/{schema_name}"}
            validator = Draft202012Validator(schema, registry=self._registry)
            self._reference[schema_name] = validator
        return validator

    def check(self, schema_name, document) -> None:
        """Raise InvalidContent naming the field when ``document`` breaks the schema."""
        if _has_non_finite(document):
            path = _non_finite_path(document)
            raise InvalidContent(f"{field_path(path)}: must be a finite number")
        try:
            self.fast_validator(schema_name)(document)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass
        error = best_match(self.reference_validator(schema_name).iter_errors(document))
        if error is not None:
            raise InvalidContent(f"{field_path(error.absolute_path)}: {_message(error)}")

    def sensor_update(self, document, now: float, known_ahead=None) -> "SensorUpdate":
        """Check a ``PUT /v1/sensors/update`` body, each reading on its own.

        An invalid envelope (the body, ``host_id``, ``sensors`` and its keys)
        raises InvalidContent, and more than :data:`MAX_READINGS_PER_UPDATE`
        readings PayloadTooLarge: the whole request is refused.  A reading
        that is invalid is only refused itself, so one broken sensor does not
        cost a host the readings of all the others.  ``now`` (epoch seconds,
        from the injected clock) is the timestamp of readings that carry none.
        When a reading lies more than :data:`MAX_FUTURE_SKEW_S` ahead, the
        host's clock runs ahead, and the whole update moves back by that much,
        or by ``known_ahead(host_id)`` (how far the host was found ahead
        recently) when that is more: a backlog's newest reading is older than
        the host's clock says, so its own lead understates the clock's.

        The whole document goes through fastjsonschema first, which accepts a
        sound update in microseconds; only one it doubts is checked again,
        envelope then reading by reading, with jsonschema wording the errors.
        """
        if not _has_non_finite(document):
            try:
                self.fast_validator("SensorUpdate")(document)
            except fastjsonschema.JsonSchemaValueException:
                pass
            else:
                _check_count(document["sensors"])
                return _build_update(document, now, {}, known_ahead)
        self._check_with(self.reference_validator(ENVELOPE), document)
        _check_count(document["sensors"])
        refused = {}
        sound = {}
        for sensor_id, entry in document["sensors"].items():
            problems = self._reading_problems(sensor_id, entry)
            if not problems:
                sound[sensor_id] = entry
            elif isinstance(entry, list) and len(problems) < len(entry):
                sound[sensor_id] = [item for index, item in enumerate(entry) if index not in problems]
                refused[sensor_id] = "; ".join(problems.values())
            else:
                refused[sensor_id] = "; ".join(problems.values())
        return _build_update({"host_id": document["host_id"], "sensors": sound}, now, refused, known_ahead)

    def _check_with(self, validator, document, prefix=()):
        error = best_match(validator.iter_errors(document))
        if error is not None:
            raise InvalidContent(f"{field_path(prefix + tuple(error.absolute_path))}: {_message(error)}")

    def _reading_problems(self, sensor_id, entry) -> dict:
        """``{index: why}`` for each refused reading of ``entry`` (index 0 for a lone reading)."""
        prefix = ("sensors", sensor_id)
        if isinstance(entry, list):
            if not entry:
                return {0: f"{field_path(prefix)}: [] should be non-empty"}
            items = [(index, item, prefix + (index,)) for index, item in enumerate(entry)]
        else:
            items = [(0, entry, prefix)]
        problems = {}
        for index, item, where in items:
            found = _non_finite_path(item)
            if found is not None:
                problems[index] = f"{field_path(where + found)}: must be a finite number"
                continue
            try:
                self._check_with(self.reference_validator("SensorReading"), item, where)
                if isinstance(item.get("timestamp"), str):
                    parse_timestamp(item["timestamp"], field_path(where + ("timestamp",)))
            except InvalidContent as error:
                problems[index] = error.message
        return problems


#: The most readings one update may carry, all sensors together; a daemon
#: draining a backlog sends several updates of this many.
MAX_READINGS_PER_UPDATE = 1000

#: The SensorUpdate schema with anything as a sensor's reading(s), derived
#: when the validator is built: what an update must be before its readings
#: are looked at one by one.
ENVELOPE = "SensorUpdateEnvelope"


@dataclasses.dataclass(frozen=True)
class SensorUpdate:
    """A checked sensor update: what to store, and what to tell the sender.

    ``refused`` and ``adjusted`` map a sensor id to a sentence naming the
    field: why its reading(s) were not stored, or what was changed in them.
    ``clock_ahead`` is how many seconds the sender's clock runs ahead, when a
    timestamp was adjusted (for the engine's log), else None.
    """

    host_id: str
    readings: tuple
    refused: dict
    adjusted: dict
    clock_ahead: float | None = None

    @property
    def sensor_ids(self) -> list:
        """Each sensor with a stored reading, once, in the order of the update."""
        return list(dict.fromkeys(reading.sensor_id for reading in self.readings))


def _check_count(entries) -> None:
    """PayloadTooLarge when ``entries`` (the ``sensors`` object) hold too many readings."""
    count = sum(len(entry) if type(entry) is list else 1 for entry in entries.values())
    if count > MAX_READINGS_PER_UPDATE:
        raise PayloadTooLarge(
            f"sensors: {count} readings in one update, more than {MAX_READINGS_PER_UPDATE}; send them in several"
        )


def _build_update(document, now, refused, known_ahead=None) -> SensorUpdate:
    """Readings of a schema-valid update; timestamps refused (before 2000) or shifted (a clock ahead).

    A host's readings share its clock: when any is stamped more than
    :data:`MAX_FUTURE_SKEW_S` ahead, the host's clock runs at least that far
    ahead, so every stamped reading of the update is moved back by as much
    (the newest lands at the time received).  Their order and spacing stay as
    they were, so a backlog keeps its history and never overtakes the newer
    readings already stored.
    """
    entries = document["sensors"]
    parsed = []  # (sensor_id, fields, timestamp or None)
    for sensor_id, entry in entries.items():
        problems = []
        for index, fields in enumerate(entry) if type(entry) is list else ((None, entry),):
            timestamp = None
            if "timestamp" in fields:
                where = f"sensors.{sensor_id}" + ("" if index is None else f".{index}") + ".timestamp"
                try:
                    timestamp = parse_timestamp(fields["timestamp"], where)
                except InvalidContent as error:
                    problems.append(error.message)
                    continue
            parsed.append((sensor_id, fields, timestamp))
        if problems:
            refused[sensor_id] = "; ".join(filter(None, [refused.get(sensor_id), *problems]))
    stamped = [(timestamp, fields["timestamp"]) for _, fields, timestamp in parsed if timestamp is not None]
    newest, newest_text = max(stamped) if stamped else (now, None)
    ahead = 0.0
    if newest > now + MAX_FUTURE_SKEW_S:
        recently = known_ahead(document["host_id"]) if known_ahead is not None else None
        ahead = max(newest - now, recently or 0.0)
    readings, adjusted = [], {}
    for sensor_id, fields, timestamp in parsed:
        if timestamp is not None and timestamp - ahead < MIN_READING_TIMESTAMP:
            # Moved back by a lead this large it would lie before 2000 (or before year 1):
            # the host's clocks are nonsense, and such a reading would poison history.
            problem = (
                f"sensors.{sensor_id}.timestamp: {fields['timestamp']!r} moved back by the host's clock lead"
                f" ({ahead:.0f} s) lies before 2000; check the sending host's clock"
            )
            refused[sensor_id] = "; ".join(filter(None, [refused.get(sensor_id), problem]))
            continue
        if timestamp is not None and ahead:
            adjusted[sensor_id] = (
                f"the sending host's clock runs {ahead:.0f} s ahead (newest timestamp {newest_text});"
                f" stored {ahead:.0f} s earlier, keeping the readings' spacing"
            )
        value = fields["value"]
        readings.append(
            Reading(
                sensor_id=sensor_id,
                sensor_type=fields["type"],
                value=None if value is None else float(value),
                timestamp=now if timestamp is None else timestamp - ahead,
                alias=fields.get("alias"),
                extra=fields.get("extra"),
            )
        )
    return SensorUpdate(document["host_id"], tuple(readings), refused, adjusted, ahead or None)


def parse_timestamp(text: str, field: str) -> float:
    """An ISO 8601 date-time with a UTC offset, as epoch seconds.

    It may not lie before the year 2000: that comes from a host whose clock
    was never set, and would poison history.  (One in the future is the
    caller's business: the update is moved back by how far it runs ahead.)
    """
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidContent(f"{field}: {text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidContent(f"{field}: {text!r} has no UTC offset (add Z or +01:00)")
    seconds = moment.timestamp()
    if seconds < MIN_READING_TIMESTAMP:
        raise InvalidContent(f"{field}: {text!r} is before 2000; check the sending host's clock")
    return seconds
