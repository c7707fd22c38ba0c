"""Every ``pattern`` of the OpenAPI document refuses a trailing newline, in both validators.

Python's ``re`` lets ``$`` match before a final ``\\n``, so ``^[^/\\s]+$`` took
``"x\\n"`` as a sensor id in jsonschema (fastjsonschema rewrites ``$`` as ``\\Z``
and refused it, so the two disagreed).  The patterns end in ``$(?!\\n)``: valid
ECMA-262, where it changes nothing, and exact in Python.
"""

import re

import fastjsonschema
import pytest
from jsonschema import Draft202012Validator

from rpymostat.api.validation import load_openapi

DOCUMENT = load_openapi()


def patterns(node, path=()):
    """``(where, pattern)`` for every ``pattern`` keyword in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield ".".join(path), value
            else:
                yield from patterns(value, path + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from patterns(item, path + (str(index),))


PATTERNS = sorted(set(patterns(DOCUMENT)))

#: A string each pattern accepts, so the newline is the only thing wrong.
ACCEPTED = {
    "^(?!\\.\\.?$)[^/\\s\\u001c-\\u001f\\u0085\\ufeff]+$(?!\\n)": "x",
    "^(?!\\.\\.?$)[A-Za-z0-9_.-]+$(?!\\n)": "x",
    "^[^/\\s\\u001c-\\u001f\\u0085\\ufeff]+/[^/\\s\\u001c-\\u001f\\u0085\\ufeff]+$(?!\\n)": "host/relay",
    "^https?://[^\\s]+$(?!\\n)": "http://pi-boiler:8089",
    "^[A-Za-z0-9_-]+$(?!\\n)": "Xq3bC9vT1nM0pL8sK2rH7dF4gJ6wY5zA",
    "^[0-9a-f]{64}$(?!\\n)": "a" * 64,
    "^[0-9a-f]{32,128}$(?!\\n)": "ab" * 16,
    "^[2-9A-HJKMNP-Z]{6}$(?!\\n)": "K7M2QX",
}


def test_the_document_has_patterns_and_each_is_known_here():
    assert len(PATTERNS) >= 7
    assert {pattern for _, pattern in PATTERNS} <= set(ACCEPTED)


@pytest.mark.parametrize("where, pattern", PATTERNS)
def test_trailing_newline_is_refused_by_both_validators(where, pattern):
    schema = {"type": "string", "pattern": pattern}
    fast = fastjsonschema.compile(schema)
    reference = Draft202012Validator(schema)
    good = ACCEPTED[pattern]
    assert fast(good) == good and reference.is_valid(good), where
    for bad in (good + "\n", good + "\n\n", "\n" + good):
        with pytest.raises(fastjsonschema.JsonSchemaValueException):
            fast(bad)
        assert not reference.is_valid(bad), (where, bad)


#: Patterns of names that become one path segment (/v1/zones/{zone}, /v1/sensors/{id}, ...).
SEGMENTS = [(where, pattern) for where, pattern in PATTERNS if pattern.startswith("^(?!\\.\\.?$)")]


def test_names_used_as_path_segments_are_known():
    assert len(SEGMENTS) >= 5  # ZoneName, SensorId, HostId, TokenName, RelayId


@pytest.mark.parametrize("where, pattern", SEGMENTS)
def test_dot_and_dot_dot_are_refused_as_names(where, pattern):
    """No HTTP client can address ``/v1/zones/..``: it normalises the path first (RFC 3986)."""
    schema = {"type": "string", "pattern": pattern}
    fast = fastjsonschema.compile(schema)
    reference = Draft202012Validator(schema)
    for bad in (".", ".."):
        with pytest.raises(fastjsonschema.JsonSchemaValueException):
            fast(bad)
        assert not reference.is_valid(bad), (where, bad)
    for good in ("...", ".a", "a.", "a..b"):
        assert fast(good) == good and reference.is_valid(good), (where, good)


@pytest.mark.parametrize("where, pattern", PATTERNS)
def test_pattern_is_valid_ecma_262_as_well(where, pattern):
    """What an ECMA-262 engine would do: ``$`` only at the very end, no Python-only syntax."""
    assert not re.search(r"\\[AZz]|\(\?P|\(\?<\w|\(\?[aiLmsux]", pattern), where
    ecma_like = re.compile(pattern.replace("$", r"\Z"))
    good = ACCEPTED[pattern]
    assert ecma_like.search(good) and not ecma_like.search(good + "\n")


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs node for a real ECMA-262 engine")
def test_patterns_compile_and_refuse_the_newline_in_javascript():
    import json
    import subprocess

    script = (
        "const cases = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(cases.map(([p, good]) => {"
        " const r = new RegExp(p, 'u'); return [r.test(good), r.test(good + '\\n')]; })));"
    )
    cases = [[pattern, ACCEPTED[pattern]] for _, pattern in PATTERNS]
    out = subprocess.run(["node", "-e", script, json.dumps(cases)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [[True, False]] * len(cases)


#: Characters Python's ``\\s`` and JavaScript's ``\\s`` disagree on: a client
#: validating against the document must refuse exactly what the engine refuses.
WHITESPACE_DISAGREEMENTS = ("\x1c", "\x1f", "\x85", "\ufeff")


@pytest.mark.parametrize("character", WHITESPACE_DISAGREEMENTS)
def test_ids_refuse_what_either_language_calls_white_space(character):
    for name in ("SensorId", "HostId", "RelayId"):
        pattern = DOCUMENT["components"]["schemas"][name]["pattern"]
        assert re.search(pattern, f"a{character}b") is None, (name, repr(character))
