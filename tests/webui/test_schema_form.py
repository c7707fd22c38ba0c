"""A form from a made-up plugin schema, and typed values (or errors) from what the form sent."""

from rpymostat_webui import schema_form

SCHEMA = {
    "type": "object",
    "required": ["band", "mode"],
    "$defs": {"seconds": {"type": "integer", "minimum": 0, "maximum": 600, "description": "Seconds."}},
    "properties": {
        "band": {"type": "number", "minimum": 0, "maximum": 5, "default": 0.3, "title": "Dead band"},
        "boost": {"type": "boolean", "default": False, "description": "Run harder when far off."},
        "steps": {"type": "integer", "exclusiveMinimum": 0},
        "label": {"type": "string"},
        "mode": {"enum": ["eco", "comfort", 3]},
        "delay": {"$ref": "#/$defs/seconds"},
        "limit": {"type": ["number", "null"], "maximum": 9},
        "tuning": {
            "type": "object",
            "required": ["gain"],
            "properties": {
                "gain": {"type": "number", "exclusiveMaximum": 10},
                "deep": {"type": "object", "properties": {"x": {"type": "number"}}},
            },
        },
        "points": {"type": "array", "items": {"type": "number"}, "default": [1]},
        "either": {"anyOf": [{"type": "number"}, {"type": "string"}]},
    },
}


def by_name(fields):
    found = {}
    for field in fields:
        found[field.name] = field
        found.update(by_name(field.children))
    return found


def test_fields_of_every_kind():
    fields = by_name(schema_form.fields(SCHEMA))
    kinds = {name: field.kind for name, field in fields.items()}
    assert kinds == {
        "config.band": "number",
        "config.boost": "boolean",
        "config.steps": "integer",
        "config.label": "string",
        "config.mode": "enum",
        "config.delay": "integer",
        "config.limit": "number",
        "config.tuning": "group",
        "config.tuning.gain": "number",
        "config.tuning.deep": "json",
        "config.points": "json",
        "config.either": "json",
    }
    band = fields["config.band"]
    assert (band.label, band.required, band.minimum, band.maximum, band.default) == ("Dead band", True, 0, 5, 0.3)
    assert band.hint == "From 0 to 5. Default: 0.3."
    assert fields["config.boost"].label == "Boost"
    assert fields["config.boost"].hint == "Run harder when far off. Default: no."
    assert fields["config.steps"].hint == "Above 0."
    assert fields["config.delay"].hint == "Seconds. From 0 to 600."
    assert fields["config.limit"].nullable and fields["config.limit"].hint == "At most 9."
    assert fields["config.mode"].choices == [('"eco"', "eco"), ('"comfort"', "comfort"), ("3", "3")]
    assert fields["config.tuning.gain"].required and fields["config.tuning.gain"].hint == "Less than 10."
    assert fields["config.points"].hint == "Default: [1]."
    assert fields["config.either"].hint == "As JSON."


def test_initial_strings_for_a_stored_config():
    fields = schema_form.fields(SCHEMA)
    stored = {
        "band": 0.5,
        "boost": True,
        "steps": 3,
        "mode": 3,
        "limit": None,
        "tuning": {"gain": 2.0},
        "points": [1, 2],
    }
    assert schema_form.initial(fields, stored) == {
        "config.band": "0.5",
        "config.boost": "true",
        "config.steps": "3",
        "config.mode": "3",
        "config.limit": "",
        "config.tuning.gain": "2",
        "config.points": "[\n 1,\n 2\n]",
    }
    assert schema_form.initial(fields, None) == {}


def test_parse_types_and_omits_empty_optional_fields():
    fields = schema_form.fields(SCHEMA)
    form = {
        "config.band": "0,7",
        "config.boost": "false",
        "config.steps": "4",
        "config.label": " hall ",
        "config.mode": '"comfort"',
        "config.delay": "",
        "config.limit": "",
        "config.tuning.gain": "9.5",
        "config.tuning.deep": '{"x": 1}',
        "config.points": "[1, 2.5]",
        "config.either": "",
    }
    values, errors = schema_form.parse(fields, form)
    assert errors == {}
    assert values == {
        "band": 0.7,
        "boost": False,
        "steps": 4,
        "label": "hall",
        "mode": "comfort",
        "tuning": {"gain": 9.5, "deep": {"x": 1}},
        "points": [1, 2.5],
    }


def test_parse_names_each_bad_field():
    fields = schema_form.fields(SCHEMA)
    form = {
        "config.band": "warm",
        "config.boost": "maybe",
        "config.steps": "2.5",
        "config.mode": '"turbo"',
        "config.delay": "601",
        "config.limit": "nan",
        "config.tuning.gain": "10",
        "config.points": "[1,",
    }
    values, errors = schema_form.parse(fields, form)
    assert errors == {
        "config.band": "'warm' is not a number",
        "config.boost": "choose yes or no",
        "config.steps": "'2.5' is not a whole number",
        "config.mode": "choose one of the offered values",
        "config.delay": "must be at most 600",
        "config.limit": "'nan' is not a number",
        "config.tuning.gain": "must be less than 10",
        "config.points": "is not valid JSON: Expecting value (line 1)",
    }
    assert values == {}


def test_required_fields_and_limits():
    fields = schema_form.fields(SCHEMA)
    values, errors = schema_form.parse(fields, {"config.steps": "0", "config.band": "-1"})
    assert errors == {
        "config.band": "must be at least 0",
        "config.mode": "needs a value",
        "config.steps": "must be more than 0",
    }
    assert values == {}
    # A group once started needs its required fields; an empty optional one is left out.
    values, errors = schema_form.parse(fields, {"config.band": "1", "config.mode": '"eco"', "config.tuning.deep": "{}"})
    assert errors == {"config.tuning.gain": "needs a value"}
    assert values == {"band": 1, "mode": "eco", "tuning": {"deep": {}}}


def test_nullable_required_and_enum_null():
    schema = {
        "type": "object",
        "required": ["cap"],
        "properties": {
            "cap": {"type": ["integer", "null"], "minimum": 1},
            "pick": {"enum": ["a", None]},
            "low": {"type": "number", "exclusiveMaximum": 1, "exclusiveMinimum": -1},
            "floor": {"type": "number", "minimum": 2},
        },
    }
    fields = schema_form.fields(schema)
    assert fields[1].nullable and fields[1].choices == [('"a"', "a")]
    assert fields[2].hint == "From above -1 to 1."
    assert fields[3].hint == "At least 2."
    assert schema_form.parse(fields, {"config.pick": "null"}) == ({"cap": None, "pick": None}, {})
    assert schema_form.initial(fields, {"pick": None, "cap": 2}) == {"config.cap": "2", "config.pick": "null"}
    assert schema_form.parse(fields, {"config.cap": "0", "config.low": "1"}) == (
        {},
        {"config.cap": "must be at least 1", "config.low": "must be less than 1"},
    )
    assert schema_form.parse(fields, {"config.cap": "", "config.low": "-1"})[1] == {
        "config.low": "must be more than -1"
    }


def test_schemas_it_cannot_read_give_no_fields_or_json():
    assert schema_form.fields({"type": "object"}) == []
    assert schema_form.fields({"type": "object", "properties": {}}) == []
    odd = schema_form.fields(
        {
            "properties": {
                "a": {"$ref": "#/nowhere"},
                "b": {"$ref": "http://example.com/s.json"},
                "c": "not a schema",
                "d": {"type": ["string", "integer"]},
                "e": {"type": "object", "properties": {"f": {"type": "string"}}, "oneOf": [{}]},
            }
        }
    )
    assert [field.kind for field in odd] == ["json", "json", "json", "json", "json"]
    assert schema_form.humanized("") == ""
    assert schema_form.humanized("min-on_s") == "Min on s"


def test_a_ref_with_a_root_document_and_json_pointer_escapes():
    root = {"components": {"schemas": {"a/b": {"type": "integer", "minimum": 1}}}}
    fields = schema_form.fields(
        {"properties": {"x": {"$ref": "#/components/schemas/a~1b", "description": "Mine."}}}, prefix="p", root=root
    )
    assert (fields[0].name, fields[0].kind, fields[0].hint) == ("p.x", "integer", "Mine. At least 1.")


def test_group_shown_values_need_an_object():
    fields = schema_form.fields(SCHEMA)
    assert schema_form.initial(fields, {"tuning": 3, "label": "x", "either": {"k": 1}}) == {
        "config.label": "x",
        "config.either": '{\n "k": 1\n}',
    }
