"""``rpymostat-webui``: serve the web UI (phone, desktop, wall kiosk) until SIGTERM."""

import sys

from rpymostat.protocol import daemon
from rpymostat_webui import config


def main(argv=None, environ=None, reactor=None, **run_options) -> int:
    """Run the web UI daemon; returns the exit status (see rpymostat.protocol.daemon.run).

    ``run_options`` (``stdout``, ``stderr``, ``begin_logging``) are for tests, as the other daemons'.
    """
    from rpymostat_webui.service import make_service

    return daemon.run(
        prog="rpymostat-webui",
        description="The RPyMostat web UI: phone, desktop and wall-kiosk pages, a client of the engine's API.",
        settings=config.SETTINGS,
        config_class=config.WebuiConfig,
        make_service=make_service,
        argv=argv,
        environ=environ,
        reactor=reactor,
        **run_options,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
