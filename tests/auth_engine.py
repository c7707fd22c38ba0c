"""An engine whose API admits by token, over a real SQLite file, with a token of each role at hand."""

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from rpymostat.api.validation import load_openapi
from rpymostat.auth import admin
from rpymostat.auth.policy import TokenAccess
from rpymostat.storage.sqlite import SQLiteStorage
from tests.api_client import ApiClient

T0 = 1795608000.0


@pytest_twisted.async_yield_fixture
async def sqlite(tmp_path):
    from twisted.internet import reactor

    storage = SQLiteStorage(tmp_path / "engine.sqlite3", reactor)
    await storage.open()
    yield storage
    await storage.close()


@pytest.fixture
def clock():
    clock = Clock()
    clock.advance(T0)
    return clock


class Engine:
    """An API client over a site whose access is by token; ``make`` adds tokens, ``call`` sends with one."""

    def __init__(self, storage, clock):
        self.storage = storage
        self.clock = clock
        self.access = TokenAccess(storage, load_openapi(), clock.seconds)
        self.client = ApiClient(storage, clock, access=self.access)
        self.tokens = {}

    async def make(self, role, name=None, host_id=None):
        token, _ = await admin.create_token(self.storage, self.clock.seconds(), name or role, role, host_id)
        self.tokens[name or role] = token
        return token

    async def call(self, method, path, body=None, token=None, as_=None, headers=None):
        headers = dict(headers or {})
        token = token if token is not None else self.tokens.get(as_)
        if token is not None:
            headers["Authorization"] = [f"Bearer {token}"]
        return await self.client.request(method, path, body, headers=headers)
