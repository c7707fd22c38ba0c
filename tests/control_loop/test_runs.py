"""The run recorder: runs stored as they happen, a sample appended per interval, open runs continued."""

import pytest_twisted

from rpymostat.control_loop.runs import RunRecorder
from rpymostat.decide.state import OutputState
from rpymostat.storage.interface import RunRecord, RunSample
from rpymostat.testing import FakeStorage

NOW = 1795608000.0


@pytest_twisted.ensureDeferred
async def test_a_run_gets_a_sample_per_interval_and_ends_when_the_output_is_off():
    storage = FakeStorage()
    recorder = RunRecorder(storage, sample_every=300.0)
    on = OutputState(True, NOW - 5)
    await recorder.observe("hall", "heat", on, NOW, 19.0, 21.0)
    await recorder.observe("hall", "heat", on, NOW + 299, 19.5, 21.0)  # not yet an interval
    await recorder.observe("hall", "heat", on, NOW + 300, 19.75, 21.0)
    await recorder.observe("hall", "heat", OutputState(False, NOW + 400), NOW + 420, 21.0, 21.0)
    expected = [
        RunRecord(
            f"hall:heat:{NOW - 5:.0f}",
            "hall",
            "heat",
            NOW - 5,
            19.0,
            21.0,
            NOW + 400,
            21.0,
            (RunSample(NOW, 19.0), RunSample(NOW + 300, 19.75)),
        )
    ]
    assert await storage.runs("hall", 5) == expected
    assert await recorder.runs("hall") == expected


@pytest_twisted.ensureDeferred
async def test_a_restart_continues_the_open_run_and_ends_a_second_one_left_for_the_same_output():
    storage = FakeStorage()
    await storage.start_run(
        RunRecord(
            "hall:heat:old",
            "hall",
            "heat",
            NOW - 7200,
            18.0,
            21.0,
            samples=(RunSample(NOW - 7200, 18.0), RunSample(NOW - 6900, 18.5)),
        )
    )
    await storage.start_run(
        RunRecord("hall:heat:new", "hall", "heat", NOW - 600, 19.0, 21.0, samples=(RunSample(NOW - 600, 19.0),))
    )
    await storage.start_run(RunRecord("attic:cool:x", "attic", "cool", NOW - 60, 27.0, None))
    recorder = RunRecorder(storage, sample_every=300.0)
    await recorder.load()
    [old] = [run for run in await storage.runs("hall", 5) if run.run_id == "hall:heat:old"]
    assert (old.ended_at, old.end_temperature) == (NOW - 6900, None)  # its last sample: last known running
    assert [run.run_id for run in await storage.open_runs()] == ["attic:cool:x", "hall:heat:new"]
    await recorder.observe("hall", "heat", OutputState(True, NOW - 600), NOW, 20.0, 21.0)
    await recorder.observe("attic", "cool", OutputState(True, NOW - 60), NOW + 240, 26.5, None)  # since its start
    [hall] = [run for run in await storage.open_runs() if run.zone == "hall"]
    assert hall.samples == (RunSample(NOW - 600, 19.0), RunSample(NOW, 20.0))
    [attic] = [run for run in await storage.open_runs() if run.zone == "attic"]
    assert attic.samples == (RunSample(NOW + 240, 26.5),)
