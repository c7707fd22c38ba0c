"""A form from a JSON Schema, and typed JSON values from what the form sent back.

A decision plugin states its settings as a JSON Schema (``GET /v1/plugins``,
``config_schema``), so the UI can offer a form for a plugin it has never
heard of: a new plugin gets its settings page with no UI change.  This
module is pure (no Flask) so the mapping is tested on its own:

* :func:`fields` turns a schema into :class:`Field` descriptions: number,
  integer, boolean, string, enum, a group (an object nested one level), or
  ``json`` (a textarea holding JSON) for whatever it cannot render
  (arrays, ``anyOf``, objects nested deeper, ...), so nothing is unreachable;
* :func:`initial` gives the strings a form shows for a stored config;
* :func:`parse` turns the submitted strings back into typed JSON values and
  an error per field (a bad number is caught here, before anything is sent).
  An empty optional field is omitted, so the engine applies its default.

Form names are the property path joined with dots under a ``prefix``
(``config.cold_tolerance``, ``safety.heat.min_on_s``): the same spelling the
engine's 422 messages use for the field, so its errors land beside the input.
"""

import dataclasses
import json
import math
from collections.abc import Mapping

KINDS = ("number", "integer", "boolean", "string", "enum", "group", "json")


@dataclasses.dataclass
class Field:
    """One input of the form (or a group of inputs, for a nested object)."""

    name: str
    kind: str
    label: str
    hint: str = ""
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    default: object = None
    has_default: bool = False
    options: list = dataclasses.field(default_factory=list)
    children: list["Field"] = dataclasses.field(default_factory=list)
    key: str = ""

    @property
    def choices(self) -> list[tuple[str, str]]:
        """``(value, label)`` pairs of an enum's options; the value is the option as JSON."""
        return [(json.dumps(option), str(option)) for option in self.options]


def humanized(key: str) -> str:
    """``cold_tolerance`` -> ``Cold tolerance``: a label when the schema gives no ``title``."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def resolved(node, root: Mapping) -> Mapping:
    """``node`` with a local ``$ref`` (``#/...``) followed in ``root``; unchanged when it has none."""
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 16:
        reference = node["$ref"]
        if not reference.startswith("#/"):
            return node
        target = root
        for part in reference[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return node
            target = target[part]
        # A sibling keyword (a description next to the $ref) wins over the target's.
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
        seen += 1
    return node


def fields(schema: Mapping, prefix: str = "config", root: Mapping | None = None) -> list[Field]:
    """The form's fields for an object ``schema``; ``root`` resolves ``$ref`` (default: the schema)."""
    root = schema if root is None else root
    schema = resolved(schema, root)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return []
    required = set(schema.get("required") or ())
    return [
        _field(key, resolved(node, root), f"{prefix}.{key}", key in required, root, 0)
        for key, node in properties.items()
    ]


def _types(node: Mapping) -> tuple[str | None, bool]:
    """The one non-null JSON type of ``node`` and whether null is allowed too."""
    declared = node.get("type")
    if isinstance(declared, list):
        others = [kind for kind in declared if kind != "null"]
        return (others[0] if len(others) == 1 else None), "null" in declared
    return declared, False


def _field(key: str, node, name: str, required: bool, root: Mapping, depth: int) -> Field:
    if not isinstance(node, Mapping):
        node = {}
    label = str(node.get("title") or humanized(key))
    made = Field(name=name, kind="json", label=label, required=required, key=key)
    made.has_default = "default" in node
    made.default = node.get("default")
    declared, made.nullable = _types(node)
    if isinstance(node.get("enum"), list) and node["enum"]:
        made.kind = "enum"
        made.options = [option for option in node["enum"] if option is not None]
        made.nullable = made.nullable or None in node["enum"]
    elif declared in ("number", "integer", "boolean", "string") and not _combined(node):
        made.kind = declared
        for limit, attribute in (
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("exclusiveMinimum", "exclusive_minimum"),
            ("exclusiveMaximum", "exclusive_maximum"),
        ):
            if _is_number(node.get(limit)):
                setattr(made, attribute, node[limit])
    elif declared == "object" and depth == 0 and isinstance(node.get("properties"), Mapping) and not _combined(node):
        made.kind = "group"
        inner = set(node.get("required") or ())
        made.children = [
            _field(child, resolved(value, root), f"{name}.{child}", child in inner, root, depth + 1)
            for child, value in node["properties"].items()
        ]
    made.hint = _hint(node, made)
    return made


def _combined(node: Mapping) -> bool:
    return any(keyword in node for keyword in ("anyOf", "oneOf", "allOf", "not", "if"))


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _hint(node: Mapping, field: Field) -> str:
    """The description, then the allowed range and the default in plain words."""
    parts = [str(node["description"])] if node.get("description") else []
    low = field.minimum if field.minimum is not None else field.exclusive_minimum
    high = field.maximum if field.maximum is not None else field.exclusive_maximum
    if low is not None and high is not None:
        above = "above " if field.minimum is None else ""
        parts.append(f"From {above}{_number_text(low)} to {_number_text(high)}.")
    elif low is not None:
        parts.append(f"At least {_number_text(low)}." if field.minimum is not None else f"Above {_number_text(low)}.")
    elif high is not None:
        parts.append(
            f"At most {_number_text(high)}." if field.maximum is not None else f"Less than {_number_text(high)}."
        )
    if field.has_default and field.kind != "group":
        parts.append(f"Default: {_shown(field, field.default)}.")
    elif field.kind == "json":
        parts.append("As JSON.")
    return " ".join(parts)


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown(field: Field, value) -> str:
    if field.kind == "boolean":
        return "yes" if value else "no"
    if field.kind in ("number", "integer"):
        return _number_text(value)
    if field.kind in ("string", "enum") and isinstance(value, str):
        return value
    return json.dumps(value)


def initial(form_fields: list[Field], config: Mapping | None) -> dict[str, str]:
    """The strings the form shows for ``config`` (the stored values); absent values show empty."""
    shown: dict[str, str] = {}
    config = config if isinstance(config, Mapping) else {}
    for field in form_fields:
        if field.key not in config:
            continue
        value = config[field.key]
        if field.kind == "group" and isinstance(value, Mapping):
            shown.update(initial(field.children, value))
        elif field.kind == "group":
            continue
        elif value is None:
            shown[field.name] = "null" if field.kind == "enum" else ""
        elif field.kind == "boolean":
            shown[field.name] = "true" if value else "false"
        elif field.kind == "enum":
            shown[field.name] = json.dumps(value)
        elif field.kind == "json":
            shown[field.name] = json.dumps(value, indent=1)
        else:
            shown[field.name] = _shown(field, value)
    return shown


def parse(form_fields: list[Field], form: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """``(values, errors)`` from the submitted ``form``: typed JSON, and ``{name: message}``."""
    values: dict = {}
    errors: dict[str, str] = {}
    for field in form_fields:
        if field.kind == "group":
            if not field.required and not any(str(form.get(child.name, "")).strip() for child in field.children):
                continue  # an optional group left empty is left out, whatever its own fields need
            inner, inner_errors = parse(field.children, form)
            errors.update(inner_errors)
            if inner or field.required:
                values[field.key] = inner
            continue
        text = str(form.get(field.name, "")).strip()
        if text == "":
            if field.required and field.nullable:
                values[field.key] = None
            elif field.required:
                errors[field.name] = "needs a value"
            continue
        try:
            values[field.key] = _typed(field, text)
        except ValueError as error:
            errors[field.name] = str(error)
    return values, errors


def _typed(field: Field, text: str):
    """One field's typed value from its text; ValueError with a message for people."""
    if field.kind == "integer":
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        return _in_range(field, value)
    if field.kind == "number":
        try:
            value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a number")
        return _in_range(field, int(value) if value.is_integer() else value)
    if field.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("choose yes or no")
        return text == "true"
    if field.kind == "enum":
        for value, _ in field.choices:
            if value == text:
                return json.loads(value)
        if text == "null" and field.nullable:
            return None
        raise ValueError("choose one of the offered values")
    if field.kind == "json":
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"is not valid JSON: {error.msg} (line {error.lineno})") from None
    return text


def _in_range(field: Field, value):
    if field.minimum is not None and value < field.minimum:
        raise ValueError(f"must be at least {_number_text(field.minimum)}")
    if field.maximum is not None and value > field.maximum:
        raise ValueError(f"must be at most {_number_text(field.maximum)}")
    if field.exclusive_minimum is not None and value <= field.exclusive_minimum:
        raise ValueError(f"must be more than {_number_text(field.exclusive_minimum)}")
    if field.exclusive_maximum is not None and value >= field.exclusive_maximum:
        raise ValueError(f"must be less than {_number_text(field.exclusive_maximum)}")
    return value
