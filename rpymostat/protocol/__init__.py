"""What every RPyMostat daemon agrees on: the shared protocol.

This package is the only part of :mod:`rpymostat` that the sensor, control and
web UI daemons may import.  It must never import engine internals (Klein,
storage, scheduling), so that each daemon installs and runs alone on a small
host.  Anyone writing a replacement daemon in another language needs nothing
but the constants below and the OpenAPI document served by the engine.
"""

#: The DNS-SD service type the engine advertises and the daemons browse for.
SERVICE_TYPE = "_rpymostat._tcp.local."

#: The path prefix of the current engine API; advertised in the TXT record
#: under :data:`TXT_API_PATH` so clients need not hard-code it.
API_BASE_PATH = "/v1"

#: TXT record keys of the engine's DNS-SD advertisement.
TXT_VERSION = "version"
TXT_API_PATH = "api"
#: Present (``"1"``) when the engine's API speaks TLS: daemons then use ``https``.
TXT_TLS = "tls"

#: Where sensor daemons push readings (``PUT``).
SENSORS_UPDATE_PATH = API_BASE_PATH + "/sensors/update"

#: The range of temperatures, in degrees Celsius, that the engine accepts as a
#: reading.  Anything outside is a broken sensor, not weather.
READING_MIN_C = -60.0
READING_MAX_C = 130.0

#: How far in the future a reading's timestamp may lie before the engine
#: rejects it: clocks on small hosts drift, but not by this much.
MAX_FUTURE_SKEW_S = 300

#: The earliest reading timestamp the engine accepts (2000-01-01T00:00:00Z): an
#: older one comes from a host whose clock was never set, and would poison history.
MIN_READING_TIMESTAMP = 946684800

#: The largest request body the engine reads.
MAX_BODY_BYTES = 1024 * 1024

#: Where relay units register with the engine (``POST``).
CONTROLS_REGISTER_PATH = API_BASE_PATH + "/controls/register"

#: Where a daemon without a token asks to pair (``POST``), and polls its
#: request (``GET PAIR_PATH + "/" + id``); see docs/security.rst.
PAIR_PATH = API_BASE_PATH + "/pair"

#: Where a paired daemon asks an engine to prove it holds the pairing secret (``POST``).
PAIR_PROOF_PATH = API_BASE_PATH + "/pair/proof"

#: A relay unit's own API: ``GET`` lists its relays, ``POST`` to
#: ``RELAYS_PATH + "/" + relay_id`` with ``{"state": true|false}`` switches one.
RELAYS_PATH = API_BASE_PATH + "/relays"

#: The TCP port a relay unit listens on unless told otherwise.
DEFAULT_CONTROL_PORT = 8089


def below_api_base(path: str) -> str:
    """``path`` (one of the ``*_PATH`` constants here) without its :data:`API_BASE_PATH` prefix.

    A daemon's engine URL already ends in the API path (the configured
    origin plus :data:`API_BASE_PATH`, or the path the engine advertises
    under :data:`TXT_API_PATH`), so it appends this, never the whole path:
    ``below_api_base(SENSORS_UPDATE_PATH) == "/sensors/update"``.
    """
    if not path.startswith(API_BASE_PATH + "/"):
        raise ValueError(f"{path!r} is not below the API base path {API_BASE_PATH!r}")
    return path[len(API_BASE_PATH) :]
