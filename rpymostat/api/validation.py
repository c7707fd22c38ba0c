"""Every API input is checked here, against the OpenAPI document's own schemas.

The request schemas in ``openapi.json`` are the single source of truth: the
same JSON Schema that documents a body for client authors validates it in the
engine, so the two cannot disagree.  Each schema is compiled twice: by
fastjsonschema, which accepts a valid body in microseconds (the hot path of
every sensor update), and by jsonschema, the reference implementation, which
judges every body the fast one doubts and words the error.  A test checks
that the fast one never accepts what the reference refuses.  What JSON Schema cannot say (finite
numbers, timestamps with offsets and not in the future) is checked in
:class:`RequestValidator` right after the schema.  Every failure is an
:class:`~rpymostat.api.errors.InvalidContent` (422) whose message names the
field, as ``sensors.28-0000075565ad.value: ...``.
"""

import datetime
import json
import math
from importlib import resources

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from rpymostat.api.errors import InvalidContent
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
    """jsonschema's message, or the schema's ``x-pattern-error`` where a regex means nothing to people."""
    if error.validator == "pattern" and isinstance(error.schema, dict):
        explanation = error.schema.get("x-pattern-error")
        if explanation:
            return f"{error.instance!r} {explanation}"
    return error.message


class RequestValidator:
    """Validates request bodies against ``#/components/schemas/<name>`` of the document."""

    def __init__(self, openapi=None):
        self.openapi = openapi if openapi is not None else load_openapi()
        resource = Resource.from_contents(self.openapi, default_specification=DRAFT202012)
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

    def sensor_update(self, document, now: float):
        """Check a ``PUT /v1/sensors/update`` body; return ``(host_id, [Reading, ...])``.

        ``now`` (epoch seconds, from the injected clock) is the timestamp of
        readings that carry none, and the reference for "too far in future".
        """
        self.check("SensorUpdate", document)
        readings = []
        for sensor_id, fields in document["sensors"].items():
            timestamp = now
            if "timestamp" in fields:
                timestamp = parse_timestamp(
                    fields["timestamp"], now, f"sensors.{sensor_id}.timestamp"
                )
            value = fields["value"]
            readings.append(
                Reading(
                    sensor_id=sensor_id,
                    sensor_type=fields["type"],
                    value=None if value is None else float(value),
                    timestamp=timestamp,
                    alias=fields.get("alias"),
                    extra=fields.get("extra"),
                )
            )
        return document["host_id"], readings


def parse_timestamp(text: str, now: float, field: str) -> float:
    """An ISO 8601 date-time with a UTC offset, as epoch seconds.

    It may lie at most :data:`MAX_FUTURE_SKEW_S` in the future and not before
    the year 2000, since either means the sending host's clock is wrong.
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
    if seconds > now + MAX_FUTURE_SKEW_S:
        raise InvalidContent(
            f"{field}: {text!r} is more than {MAX_FUTURE_SKEW_S} seconds in the future;"
            " check the sending host's clock"
        )
    return seconds
