"""``rpymostat-engine``: run the engine until SIGTERM, or run an admin command.

``rpymostat-engine token ...`` and ``rpymostat-engine pair ...`` manage
tokens and pairing requests on the engine's storage (:mod:`rpymostat.auth.cli`).
"""

import os
import sys

from rpymostat import config
from rpymostat.protocol import daemon


def main(argv=None, environ=None, reactor=None) -> int:
    """Run the engine; returns the exit status (see :func:`rpymostat.protocol.daemon.run`)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments and arguments[0] in ("token", "pair"):
        from rpymostat.auth import cli

        return cli.main(arguments, os.environ if environ is None else environ)
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
