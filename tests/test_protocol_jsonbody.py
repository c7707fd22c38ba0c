"""The one JSON body reader the engine and the relay unit share."""

import io
import subprocess
import sys

import pytest
from twisted.web.http_headers import Headers

from rpymostat.protocol.jsonbody import BodyRefused, read_json_body


def short(value):
    """A readable test id for a parameter of any length."""
    text = repr(value)
    return text if len(text) < 40 else text[:30] + f"...({len(value)})"


JSON = [b"application/json"]


class Request:
    """What the reader uses of a twisted.web request: headers and a seekable body."""

    def __init__(self, body: bytes, lengths=(), types=JSON):
        self.requestHeaders = Headers({b"content-length": list(lengths)} if lengths else {})
        if types:
            self.requestHeaders.setRawHeaders(b"content-type", list(types))
        self.content = io.BytesIO(body)
        self.content.read()  # the server leaves the stream at its end


def refusal(body, lengths=(), types=JSON, **options):
    with pytest.raises(BodyRefused) as refused:
        read_json_body(Request(body, lengths, types), **options)
    return refused.value.code, refused.value.message


@pytest.mark.parametrize(
    "types",
    [
        [b"application/json; charset=utf-8"],
        [b"Application/JSON"],
        [b"application/json;charset=UTF-8"],
        [b" application/json "],
    ],
)
def test_json_with_any_parameters_in_any_case_is_read(types):
    assert read_json_body(Request(b'{"state": true}', types=types)) == {"state": True}


@pytest.mark.parametrize(
    "types, shown",
    [
        ([], "none"),
        ([b"text/plain"], "'text/plain'"),
        ([b"text/plain;charset=UTF-8"], "'text/plain;charset=UTF-8'"),
        ([b"application/x-www-form-urlencoded"], "'application/x-www-form-urlencoded'"),
        ([b"multipart/form-data; boundary=x"], "'multipart/form-data; boundary=x'"),
        ([b"application/jsonp"], "'application/jsonp'"),
        ([b"application/merge-patch+json"], "'application/merge-patch+json'"),
        ([b"text/json"], "'text/json'"),
        ([b""], "''"),
        ([b"application/json", b"text/plain"], "'application/json', 'text/plain'"),
        ([b"\xff" * 500], "'" + "\xff" * 80 + "'"),
    ],
    ids=short,
)
def test_a_body_not_declared_json_is_415_before_it_is_read(types, shown):
    request = Request(b" " * 100, lengths=[b"999999999"], types=types)  # empty and "too large"
    with pytest.raises(BodyRefused) as refused:
        read_json_body(request, max_bytes=10)
    assert (refused.value.code, refused.value.message) == (415, f"Content-Type must be application/json, got {shown}")
    assert request.content.tell() == 100  # not rewound, not read


def test_reads_any_json_value_nan_included():
    assert read_json_body(Request(b' {"a": [1, 2.5, null]} ')) == {"a": [1, 2.5, None]}
    assert read_json_body(Request(b"NaN")) != read_json_body(Request(b"NaN"))
    assert read_json_body(Request(b"9" * 4300)) == int("9" * 4300)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "request body is empty; expected JSON"),
        (b" \n", "request body is empty; expected JSON"),
        (b"\xff{}", "request body is not UTF-8"),
        (b"{nope", "request body is not valid JSON: Expecting property name enclosed in double quotes"),
        (b"\xef\xbb\xbf{}", "request body is not valid JSON: Unexpected UTF-8 BOM"),
        (b"[" * 100000, "request body is nested too deeply"),
        (b"1" * 4301, "request body has an integer longer than 4300 digits"),
        (b'{"a": [-' + b"1" * 5000 + b"]}", "request body has an integer longer than 4300 digits"),
    ],
    ids=short,
)
def test_unreadable_bodies_are_400(body, message):
    code, text = refusal(body)
    assert code == 400 and text.startswith(message), text


def test_the_empty_message_says_what_was_expected():
    assert refusal(b"", expected="an object")[1] == "request body is empty; expected an object"


@pytest.mark.parametrize(
    "body, lengths",
    [
        (b"[" + b"1," * 10 + b"1]", ()),
        (b"1", [b"11"]),
        (b"1", [b"1", b" 000011 "]),
        (b"1", [b"9" * 5000]),  # too long for int(): compared by its length
        (b"1", [b"0" * 5000 + b"11"]),
    ],
    ids=short,
)
def test_over_the_limit_is_413_by_size_or_declared_length(body, lengths):
    assert refusal(body, lengths, max_bytes=10) == (413, "request body over 10 bytes")


@pytest.mark.parametrize("lengths", [[b"10"], [b"0" * 5000 + b"10"], [b"-5"], [b"ten"], [b""], [b"0"]], ids=short)
def test_declared_lengths_within_the_limit_or_meaningless_are_ignored(lengths):
    assert read_json_body(Request(b"[1]", lengths), max_bytes=10) == [1]


def test_the_default_limit_is_the_protocols():
    from rpymostat.protocol import MAX_BODY_BYTES

    assert refusal(b" " * (MAX_BODY_BYTES + 1))[0] == 413


def test_it_imports_nothing_of_the_engine():
    code = (
        "import sys, rpymostat.protocol.jsonbody, rpymostat.protocol.backoff\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('klein', 'werkzeug', 'jsonschema', 'rpymostat'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == [
        "rpymostat",
        "rpymostat.protocol",
        "rpymostat.protocol.backoff",
        "rpymostat.protocol.jsonbody",
        "rpymostat.version",
    ]
