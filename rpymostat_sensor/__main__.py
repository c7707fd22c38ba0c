"""``rpymostat-sensor``: read sensors and push the readings to the engine until SIGTERM."""

import sys

from rpymostat.protocol import daemon
from rpymostat_sensor import config


def main(argv=None, environ=None, reactor=None) -> int:
    """Run the sensor daemon; returns the exit status (see rpymostat.protocol.daemon.run)."""
    from rpymostat_sensor.service import make_service

    return daemon.run(
        prog="rpymostat-sensor",
        description="The RPyMostat sensor daemon: reads sensors and pushes readings to the engine.",
        settings=config.SETTINGS,
        config_class=config.SensorConfig,
        make_service=make_service,
        argv=argv,
        environ=environ,
        reactor=reactor,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
