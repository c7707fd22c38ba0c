"""``rpymostat-engine``: run the engine until SIGTERM."""

import sys

from rpymostat import config
from rpymostat.protocol import daemon


def main(argv=None, environ=None, reactor=None) -> int:
    """Run the engine; returns the exit status (see :func:`rpymostat.protocol.daemon.run`)."""
    from rpymostat.service import make_service

    return daemon.run(
        prog="rpymostat-engine",
        description="The RPyMostat engine: HTTP API, storage, scheduling and decisions.",
        settings=config.SETTINGS,
        config_class=config.EngineConfig,
        make_service=make_service,
        argv=argv,
        environ=environ,
        reactor=reactor,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
