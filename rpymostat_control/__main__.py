"""``rpymostat-control``: switch relays as the engine commands, safely, until SIGTERM."""

import sys

from rpymostat.protocol import daemon
from rpymostat_control import config


def main(argv=None, environ=None, reactor=None, **run_options) -> int:
    """Run the control daemon; returns the exit status (see rpymostat.protocol.daemon.run).

    ``run_options`` (``stdout``, ``stderr``, ``begin_logging``) are for tests.
    """
    from rpymostat_control.service import make_service

    return daemon.run(
        prog="rpymostat-control",
        description="The RPyMostat control daemon: switches heating and cooling relays"
        " as the engine commands, within minimum on/off times and a lease.",
        settings=config.SETTINGS,
        config_class=config.checked_config,
        make_service=make_service,
        argv=argv,
        environ=environ,
        reactor=reactor,
        **run_options,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
