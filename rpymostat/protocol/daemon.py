"""The command line every RPyMostat daemon shares.

``-v``/``-vv`` choose the log level, ``--show-config`` prints the settings
table and exits, a bad setting exits 2 naming the variable, and SIGTERM stops
the service tree cleanly (the reactor's own signal handling runs
``stopService`` before it exits).  The daemon-specific part is only the
settings table and a ``make_service(config, reactor)`` factory.
"""

import argparse
import logging
import os
import sys

from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

from rpymostat.protocol.settings import ConfigError, describe, load

log = Logger()

_LEVELS = (LogLevel.warn, LogLevel.info, LogLevel.debug)
_STDLIB_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)


def build_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The shared argument parser; daemons add nothing to it so their CLIs stay alike."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="All configuration comes from environment variables; see --show-config.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more: -v for info, -vv for debug (default: warnings and errors)",
    )
    parser.add_argument(
        "--show-config",
        action="store_true",
        help="print every setting with its default and effective value, then exit",
    )
    return parser


def log_observer(verbosity: int, stream):
    """A Twisted log observer writing to ``stream`` what ``-v`` times ``verbosity`` shows."""
    level = _LEVELS[min(verbosity, len(_LEVELS) - 1)]
    predicate = LogLevelFilterPredicate(defaultLogLevel=level)
    return FilteringLogObserver(textFileLogObserver(stream), [predicate])


def stdlib_level(verbosity: int) -> int:
    """The stdlib ``logging`` level (python-zeroconf logs there) for ``verbosity``."""
    return _STDLIB_LEVELS[min(verbosity, len(_STDLIB_LEVELS) - 1)]


def start_logging(verbosity: int, stream) -> None:  # pragma: no cover - global, per process
    """Send Twisted and stdlib logs to ``stream`` at the level ``-v`` asked for."""
    globalLogBeginner.beginLoggingTo([log_observer(verbosity, stream)], redirectStandardIO=False)
    logging.basicConfig(
        stream=stream,
        level=stdlib_level(verbosity),
        format="%(asctime)s [%(name)s#%(levelname)s] %(message)s",
    )


def run(
    prog,
    description,
    settings,
    config_class,
    make_service,
    argv=None,
    environ=None,
    reactor=None,
    stdout=None,
    stderr=None,
    begin_logging=start_logging,
) -> int:
    """Parse the command line and environment, then run the daemon until it stops.

    Returns the process exit status: 0 after a clean stop or ``--show-config``,
    2 for a bad setting, 1 when the service could not start.  Tests pass their
    own ``reactor`` and ``begin_logging`` so nothing global is touched.
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    args = build_parser(prog, description).parse_args(argv)
    try:
        config = load(config_class, settings, environ)
    except ConfigError as e:
        stderr.write(f"{prog}: {e}\n")
        return 2
    if args.show_config:
        stdout.write(describe(settings, config))
        return 0

    begin_logging(args.verbose, stderr)
    if reactor is None:  # pragma: no cover - the real process path, run by acceptance tests
        from twisted.internet import reactor
    try:
        service = make_service(config, reactor)
    except Exception as e:
        log.critical("{prog} cannot start: {error}", prog=prog, error=e)
        return 1
    outcome = {"status": 0}

    def start():
        service.startService()
        ready = getattr(service, "when_ready", None)
        if ready is not None:
            ready().addErrback(failed)

    def failed(failure):
        log.critical("{prog} cannot start: {error}", prog=prog, error=failure.getErrorMessage())
        outcome["status"] = 1
        reactor.stop()

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return outcome["status"]
