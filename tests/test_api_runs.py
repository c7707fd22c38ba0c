"""``GET /v1/zones/{zone}/runs`` pages by time: ``start``, ``end`` and ``limit``."""

import pytest
import pytest_twisted

from rpymostat.storage.interface import RunRecord
from tests.conftest import NOW


async def store_runs(store):
    for hour in range(5):  # runs starting 10:00, 09:00, ... 06:00 UTC on 2026-11-25
        started = NOW - 7200 - 3600 * hour
        await store.start_run(RunRecord(f"r{hour}", "default", "heat", started, 19.0, 21.0, ended_at=started + 600))


@pytest_twisted.ensureDeferred
async def test_runs_page_back_in_time(api, store):
    await store_runs(store)
    code, body, _ = await api.get("/v1/zones/default/runs?start=2026-11-25T07:00:00Z&end=2026-11-25T10:00:00Z")
    assert code == 200
    assert [run["started_at"] for run in body["runs"]] == [
        "2026-11-25T09:00:00.000+00:00",
        "2026-11-25T08:00:00.000+00:00",
        "2026-11-25T07:00:00.000+00:00",
    ]
    code, body, _ = await api.get("/v1/zones/default/runs?limit=2&end=2026-11-25T09:00:00Z")
    assert [run["started_at"] for run in body["runs"]] == [
        "2026-11-25T08:00:00.000+00:00",
        "2026-11-25T07:00:00.000+00:00",
    ]
    code, body, _ = await api.get("/v1/zones/default/runs?start=2026-11-25T10:00")  # wall time: UTC here
    assert [run["started_at"] for run in body["runs"]] == ["2026-11-25T10:00:00.000+00:00"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("start=noon", "start: 'noon' is not an ISO 8601 date and time"),
        ("end=1990-01-01", "end: '1990-01-01' is not between the years 2000 and 2099"),
        ("start=2026-11-25T10:00Z&end=2026-11-25T09:00Z", "end: must be after start"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_a_bad_window_is_refused_naming_the_field(api, store, query, error):
    code, body, _ = await api.get(f"/v1/zones/default/runs?{query}")
    assert (code, body["error"]) == (422, error)


@pytest_twisted.ensureDeferred
async def test_a_full_page_never_splits_runs_that_started_together(api, store):
    await store_runs(store)
    started = NOW - 7200 - 3600  # 09:00, beside r1
    await store.start_run(RunRecord("r1-fan", "default", "fan", started, 19.0, None, ended_at=started + 600))
    code, first, _ = await api.get("/v1/zones/default/runs?limit=2")
    assert [(run["output"], run["started_at"]) for run in first["runs"]] == [
        ("heat", "2026-11-25T10:00:00.000+00:00"),
        ("fan", "2026-11-25T09:00:00.000+00:00"),
        ("heat", "2026-11-25T09:00:00.000+00:00"),
    ]
    code, second, _ = await api.get("/v1/zones/default/runs?limit=2&end=2026-11-25T09:00:00Z")
    assert [run["started_at"] for run in second["runs"]] == [
        "2026-11-25T08:00:00.000+00:00",
        "2026-11-25T07:00:00.000+00:00",
    ]
