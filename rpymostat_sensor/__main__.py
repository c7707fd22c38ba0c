"""Entry point of ``rpymostat-sensor``: not implemented yet, so it says so and exits 2."""

import sys


def main(argv=None):
    """Tell the user this daemon does not exist yet; exit status 2."""
    sys.stderr.write("rpymostat-sensor: not implemented yet\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
