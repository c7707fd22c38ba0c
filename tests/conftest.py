"""Fixtures shared by the engine's tests: storage backends and a fixed clock."""

import datetime

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from rpymostat.storage.sqlite import SQLiteStorage
from rpymostat.testing import FakeStorage
from tests.mongo_server import mongo_server_uri, mongo_url  # noqa: F401 (fixtures)

#: 2026-11-25T12:00:00Z, a fixed "now" for tests that need one.
NOW = 1795608000.0


@pytest.fixture
def clock():
    """A Twisted Clock set to :data:`NOW`."""
    fake = Clock()
    fake.advance(NOW)
    return fake


@pytest.fixture
def store():
    """An in-memory storage (the contract suite keeps it honest)."""
    return FakeStorage()


@pytest.fixture
def api(store, clock):
    """A JSON client of the engine's real resource tree over ``store``, at :data:`NOW`."""
    from tests.api_client import ApiClient

    return ApiClient(store, clock)


@pytest.fixture(params=["fake", "sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def backend_name(request):
    """The name of each :class:`IStorage` implementation, the fake included."""
    return request.param


def make_storage(name, request, tmp_path, reactor, timezone=datetime.UTC):
    """An unopened storage backend of kind ``name``, counting the days of ``timezone``.

    The MongoDB one gets a fresh database on the session's server (see
    ``tests/mongo_server.py``), so tests never see each other's data.
    """
    if name == "fake":
        return FakeStorage(timezone=timezone)
    if name == "sqlite":
        return SQLiteStorage(tmp_path / "engine.sqlite3", reactor, timezone=timezone)
    from rpymostat.storage.mongo import MongoStorage

    return MongoStorage(request.getfixturevalue("mongo_url"), reactor, timezone=timezone)


@pytest_twisted.async_yield_fixture
async def storage(backend_name, request, tmp_path):
    """An opened storage backend of each kind; closed after the test."""
    from twisted.internet import reactor

    backend = make_storage(backend_name, request, tmp_path, reactor)
    await backend.open()
    yield backend
    await backend.close()
