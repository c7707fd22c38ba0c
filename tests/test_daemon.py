"""The daemon command line's run loop: start, readiness failure, clean stop."""

from twisted.application.service import Service
from twisted.internet.defer import fail, succeed
from twisted.logger import formatEvent, globalLogPublisher

from rpymostat.config import SETTINGS, EngineConfig
from rpymostat.protocol import daemon

ENVIRON = {"HOME": "/tmp", "TZ": "UTC"}


class RecordingReactor:
    """Just enough of a reactor to see what ``daemon.run`` asks of it.

    ``run()`` calls the when-running callbacks, then, as a real reactor does
    on SIGTERM, the before-shutdown triggers.
    """

    def __init__(self):
        self.running = []
        self.before_shutdown = []
        self.stopped = False

    def callWhenRunning(self, function):
        self.running.append(function)

    def addSystemEventTrigger(self, phase, event, function):
        assert (phase, event) == ("before", "shutdown")
        self.before_shutdown.append(function)

    def run(self):
        for function in self.running:
            function()
        for function in self.before_shutdown:
            function()

    def stop(self):
        self.stopped = True


class RecordingService(Service):
    def __init__(self, ready):
        self.ready = ready
        self.events = []

    def startService(self):
        self.events.append("start")

    def stopService(self):
        self.events.append("stop")

    def when_ready(self):
        return self.ready


def run(make_service, reactor):
    """Run the daemon loop; return its exit status and what it logged."""
    logged = []

    def begin_logging(verbosity, stream):
        assert verbosity == 2
        globalLogPublisher.addObserver(logged.append)

    try:
        status = daemon.run(
            "rpymostat-test",
            "test",
            SETTINGS,
            EngineConfig,
            make_service,
            argv=["-vv"],
            environ=ENVIRON,
            reactor=reactor,
            begin_logging=begin_logging,
        )
    finally:
        globalLogPublisher.removeObserver(logged.append)
    return status, "\n".join(formatEvent(event) for event in logged)


def test_service_runs_and_stops_cleanly():
    reactor = RecordingReactor()
    service = RecordingService(succeed(None))
    status, _ = run(lambda config, r: service, reactor)
    assert status == 0
    assert service.events == ["start", "stop"]
    assert not reactor.stopped


def test_readiness_failure_stops_reactor_and_exits_1():
    reactor = RecordingReactor()
    service = RecordingService(fail(OSError("port 8088 in use")))
    status, log = run(lambda config, r: service, reactor)
    assert status == 1
    assert reactor.stopped
    assert "rpymostat-test cannot start: port 8088 in use" in log


def test_factory_failure_exits_1_before_reactor_runs():
    reactor = RecordingReactor()

    def broken(config, r):
        raise ValueError("no storage")

    status, log = run(broken, reactor)
    assert status == 1
    assert reactor.running == []
    assert "rpymostat-test cannot start: no storage" in log


def test_service_without_readiness_runs():
    reactor = RecordingReactor()
    service = Service()
    status, _ = run(lambda config, r: service, reactor)
    assert status == 0
    assert not service.running
