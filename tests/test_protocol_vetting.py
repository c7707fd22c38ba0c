"""Only an engine that proves itself is used; a failed proof is held against it, a silence is not.

The vet here is scripted (each URL's verdict is a Deferred the test fires),
and time is a Clock: these are the rules :class:`Vetting` applies, whatever
the proof is.  The proof itself over HTTP is tested with the EngineLink.
"""

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs

from rpymostat.protocol.client import Unreachable
from rpymostat.protocol.vetting import REFUSAL_S, RETRY_S, FixedEngine, Vetting, accept_all

A, B, C = "http://10.0.0.1:8088/v1", "http://10.0.0.2:8088/v1", "http://10.0.0.3:8088/v1"


class ScriptedVet:
    """Each call waits for the test: ``answer(url, verdict)`` fires the latest ask of ``url``."""

    def __init__(self):
        self.asked, self.waiting, self.cancelled = [], {}, []

    def __call__(self, url):
        self.asked.append(url)
        self.waiting[url] = Deferred(lambda d: self.cancelled.append(url))
        return self.waiting[url]

    def answer(self, url, verdict):
        waiting = self.waiting.pop(url)
        if isinstance(verdict, Exception):
            waiting.errback(verdict)
        else:
            waiting.callback(verdict)


@pytest.fixture
def vetting():
    """A Vetting whose ``changed`` re-picks among ``offered`` (as the finder does)."""
    clock, vet = Clock(), ScriptedVet()
    offered = []
    vetting = Vetting(vet, clock, lambda: vetting.pick(offered))
    vetting.offered, vetting.vet, vetting.clock = offered, vet, clock
    return vetting


def offer(vetting, *urls):
    vetting.offered[:] = urls
    return vetting.pick(urls)


def test_the_first_candidate_that_proves_itself_is_used(vetting):
    assert offer(vetting, A, B) is None  # A is asked first; nothing is used meanwhile
    assert vetting.vet.asked == [A]
    vetting.vet.answer(A, False)  # a rogue: skip it, ask the next
    assert vetting.vet.asked == [A, B] and vetting.chosen is None
    vetting.vet.answer(B, True)
    assert vetting.chosen == B
    assert offer(vetting, A, B) == B and vetting.vet.asked == [A, B]  # neither asked again


def test_a_refusal_expires_so_a_real_engine_is_asked_again(vetting):
    offer(vetting, A, B)
    vetting.vet.answer(A, False)
    vetting.vet.answer(B, True)
    vetting.clock.advance(REFUSAL_S - 1)
    assert vetting.vet.asked == [A, B]
    vetting.clock.advance(1)  # A may have been down for its proof: ask again
    assert vetting.vet.asked == [A, B, A] and vetting.chosen == B  # B stays in use while A is asked
    vetting.vet.answer(A, True)
    assert vetting.chosen == A


def test_a_refused_engine_that_moves_is_asked_at_once(vetting):
    offer(vetting, A, B)
    vetting.vet.answer(A, False)
    vetting.vet.answer(B, True)
    assert offer(vetting, C, B) == B  # A re-advertised elsewhere (a new URL)
    assert vetting.vet.asked == [A, B, C]
    vetting.vet.answer(C, True)
    assert vetting.chosen == C


def test_the_engine_in_use_is_followed_when_it_moves_once_it_proves_itself(vetting):
    offer(vetting, A)
    vetting.vet.answer(A, True)
    assert offer(vetting, B) is None  # A's advertisement now says B: not used before its proof
    vetting.vet.answer(B, True)
    assert vetting.chosen == B and vetting.vet.asked == [A, B]


def test_an_unreachable_engine_is_not_refused_but_asked_again_soon(vetting):
    with capturedLogs() as events:
        offer(vetting, A, B)
        vetting.vet.answer(A, Unreachable("connection refused"))
        vetting.vet.answer(B, True)
        assert vetting.chosen == B
        vetting.clock.advance(RETRY_S)  # much sooner than a refusal expires
        assert vetting.vet.asked == [A, B, A]
        vetting.vet.answer(A, True)
    assert vetting.chosen == A
    assert [e["log_level"] for e in events] == [LogLevel.info]
    assert "connection refused" in str(events[0]["error"])


def test_a_vet_that_raises_is_logged_and_treated_as_try_later(vetting):
    with capturedLogs() as events:
        offer(vetting, A)
        vetting.vet.answer(A, ValueError("bug"))
    assert vetting.chosen is None
    assert [e["log_level"] for e in events] == [LogLevel.critical]
    vetting.clock.advance(RETRY_S)
    assert vetting.vet.asked == [A, A]


def test_a_candidate_gone_while_asked_is_no_longer_asked(vetting):
    offer(vetting, A)
    vetting.vet.answer(A, True)
    offer(vetting, B, A)
    assert vetting.vet.asked == [A, B] and vetting.chosen == A
    assert offer(vetting, A) == A
    assert vetting.vet.cancelled == [B]
    assert offer(vetting) is None and vetting.chosen is None


def test_stopping_forgets_everything_and_leaves_nothing_pending(vetting):
    offer(vetting, A, B)
    vetting.vet.answer(A, False)
    assert vetting.clock.getDelayedCalls() and vetting.vet.waiting
    vetting.stop()
    assert vetting.clock.getDelayedCalls() == [] and vetting.vet.cancelled == [B]
    assert vetting.chosen is None
    assert offer(vetting, A) is None and vetting.vet.asked == [A, B, A]  # the refusal is forgotten


def test_a_synchronous_vet_decides_at_once():
    clock = Clock()
    changes = []
    vetting = Vetting(lambda url: url != A, clock, lambda: changes.append(1))
    assert vetting.pick([A, B]) == B
    assert changes == []  # no re-pick asked from inside a pick
    assert accept_all(A) and Vetting(accept_all, clock, list).pick([A]) == A


def test_a_fixed_engine_is_used_once_it_proves_itself():
    clock, verdicts = Clock(), [Unreachable("down"), False, True]

    def vet(url):
        verdict = verdicts.pop(0)
        return succeed(verdict) if isinstance(verdict, bool) else fail(verdict)

    engine = FixedEngine(A, vet, clock)
    with capturedLogs() as events:
        engine.startService()
        assert engine.current() is None
        clock.advance(RETRY_S)
        assert engine.current() is None  # refused
        clock.advance(REFUSAL_S)
        assert engine.current() == A
    assert [e["url"] for e in events if "using the engine" in e["log_format"]] == [A]
    engine.stopService()
    assert clock.getDelayedCalls() == [] and engine.current() is None


def test_a_verdict_on_an_ask_already_dropped_is_ignored():
    """A vet that cannot be cancelled (its answer already on its way) must not pick a URL gone since."""
    clock, late = Clock(), Deferred()
    late.pause()
    late.callback(True)  # answered, but its callbacks wait
    vetting = Vetting(lambda url: late if url == A else succeed(True), clock, list)
    assert vetting.pick([A]) is None
    assert vetting.pick([B]) == B  # A is no longer offered: its ask is dropped
    late.unpause()
    assert vetting.chosen == B and vetting.pick([B]) == B
