"""The state file writer: one worker thread, the newest snapshot last, nothing lost at stop."""

import threading

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher

from rpymostat_control.state_file import StateFile, Switched
from rpymostat_control.state_writer import StateWriter


class GatedStateFile(StateFile):
    """A real state file whose writes wait for :attr:`gate`, noting each snapshot and thread."""

    def __init__(self, data_dir):
        super().__init__(data_dir)
        self.gate = threading.Event()
        self.saved, self.threads = [], []
        self.failing = None

    def save(self, switched):
        self.gate.wait(10)
        self.threads.append(threading.get_ident())
        if self.failing is not None:
            raise self.failing
        super().save(switched)
        self.saved.append(switched)


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda: "\n".join(formatEvent(event) for event in events)
    globalLogPublisher.removeObserver(events.append)


def snapshot(state, since):
    return {"sim-1": Switched(state, since)}


@pytest_twisted.ensureDeferred
async def test_snapshots_arriving_during_a_write_are_coalesced_to_the_newest(tmp_path):
    state_file = GatedStateFile(tmp_path)
    writer = StateWriter(reactor, state_file)
    writer.save(snapshot(True, 1.0))
    await deferLater(reactor, 0.05, lambda: None)  # the first write is waiting at the gate
    writer.save(snapshot(False, 2.0))
    writer.save(snapshot(True, 3.0))  # supersedes the one before, not yet written
    assert state_file.saved == []  # save() returned at once, nothing written on this thread
    state_file.gate.set()
    await writer.flush()
    assert state_file.saved == [snapshot(True, 1.0), snapshot(True, 3.0)]
    assert StateFile(tmp_path).load() == snapshot(True, 3.0)
    assert threading.get_ident() not in state_file.threads and len(set(state_file.threads)) == 1
    assert writer.written == 2
    await writer.stop()


@pytest_twisted.ensureDeferred
async def test_stop_waits_for_the_newest_snapshot(tmp_path):
    state_file = GatedStateFile(tmp_path)
    writer = StateWriter(reactor, state_file)
    writer.save(snapshot(True, 1.0))
    writer.save(snapshot(False, 2.0))
    reactor.callLater(0.05, state_file.gate.set)  # the disk is slow: stop must wait for it
    await writer.stop()
    assert state_file.saved == [snapshot(True, 1.0), snapshot(False, 2.0)]
    assert StateFile(tmp_path).load() == snapshot(False, 2.0)


@pytest_twisted.ensureDeferred
async def test_a_failed_write_is_logged_and_the_next_switch_writes_again(tmp_path, logged):
    state_file = GatedStateFile(tmp_path)
    state_file.gate.set()
    writer = StateWriter(reactor, state_file)
    state_file.failing = OSError(28, "No space left on device")
    writer.save(snapshot(True, 1.0))
    await writer.flush()
    assert "could not save relay switch times to" in logged() and "No space left on device" in logged()
    state_file.failing = RuntimeError("a bug")
    writer.save(snapshot(True, 1.5))
    await writer.flush()
    assert "saving relay switch times failed unexpectedly" in logged()
    assert writer.failures == 2
    state_file.failing = None
    writer.save(snapshot(False, 2.0))
    await writer.flush()
    assert StateFile(tmp_path).load() == snapshot(False, 2.0)
    await writer.stop()


@pytest_twisted.ensureDeferred
async def test_a_writer_never_used_stops_at_once(tmp_path):
    writer = StateWriter(reactor, StateFile(tmp_path))
    await writer.stop()
    assert not (tmp_path / "relay-state.json").exists()
