"""The OpenAPI document is complete (every route) and true (every example validates)."""

import re

import pytest
import pytest_twisted
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from rpymostat.api.controls_api import ControlsApi
from rpymostat.api.events_api import EventsApi
from rpymostat.api.history_api import HistoryApi
from rpymostat.api.pairing_api import PairingApi
from rpymostat.api.root import RootApi
from rpymostat.api.rules_api import RuleCollection
from rpymostat.api.sensors_api import SensorsApi
from rpymostat.api.timeline_api import TimelineApi
from rpymostat.api.tokens_api import PairingsApi, TokensApi
from rpymostat.api.v1 import V1Api
from rpymostat.api.validation import load_openapi
from rpymostat.api.zones_api import ZonesApi
from rpymostat.testing import FakeStorage
from tests.api_client import ApiClient

DOCUMENT = load_openapi()
METHODS = {"get", "put", "post", "patch", "delete"}


#: Where each family's app is mounted (a branch route of the app above it).
MOUNTS = {
    "": RootApi.app,
    "/v1": V1Api.app,
    "/v1/sensors": SensorsApi.app,
    "/v1/schedules": RuleCollection.app,
    "/v1/overrides": RuleCollection.app,
    "/v1/zones": ZonesApi.app,
    "/v1/timeline": TimelineApi.app,
    "/v1/history": HistoryApi.app,
    "/v1/controls": ControlsApi.app,
    "/v1/pair": PairingApi.app,
    "/v1/tokens": TokensApi.app,
    "/v1/pairings": PairingsApi.app,
    "/v1/events": EventsApi.app,
}


def klein_routes():
    """Every (path, method) the apps route, in OpenAPI path syntax, HEAD aside; branches must be mounts."""
    routes = set()
    for prefix, app in MOUNTS.items():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.endswith("_branch") or prefix + rule.rule in MOUNTS:
                assert (
                    rule.rule.split("/<path:__rest__>")[0] and prefix + rule.rule.split("/<path:__rest__>")[0] in MOUNTS
                ), f"{prefix}{rule.rule} mounts an app this test does not know"
                continue  # the branch that mounts a sub-app
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + rule.rule).rstrip("/") or "/"
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    return routes


def documented_routes():
    return {(path, method) for path, item in DOCUMENT["paths"].items() for method in item if method in METHODS}


def test_every_route_is_documented_and_nothing_else():
    assert klein_routes() == documented_routes()


def test_document_is_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1.")


def examples():
    """(where, schema, example) for every example in the document."""
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(f"response {code}", r) for code, r in operation["responses"].items()]
            for where, body in bodies:
                for media in body.get("content", {}).values():
                    samples = [media["example"]] if "example" in media else []
                    samples += [e["value"] for e in media.get("examples", {}).values()]
                    for sample in samples:
                        found.append((f"{method.upper()} {path} {where}", media["schema"], sample))
    return found


EXAMPLES = examples()


def test_every_json_body_but_the_document_itself_has_an_example():
    missing = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or path == "/v1/openapi.json":
                continue
            bodies = [operation.get("requestBody", {})] + list(operation["responses"].values())
            for body in bodies:
                media = body.get("content", {}).get("application/json")
                if media is not None and "example" not in media and "examples" not in media:
                    missing.append(f"{method.upper()} {path}")
    assert missing == []


@pytest.mark.parametrize("where, schema, example", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_validates_against_its_schema(where, schema, example):
    resource = Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:doc", resource)
    if "$ref" in schema:
        schema = {"$ref": "urn:doc" + schema["$ref"]}
    errors = list(Draft202012Validator(schema, registry=registry).iter_errors(example))
    assert errors == [], f"{where}: {errors[0].message}"


def test_component_schemas_are_valid_json_schema():
    for schema in DOCUMENT["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


@pytest_twisted.ensureDeferred
async def test_engine_serves_the_document(clock):
    code, body, _ = await ApiClient(FakeStorage(), clock).get("/v1/openapi.json")
    assert code == 200
    assert body == DOCUMENT
