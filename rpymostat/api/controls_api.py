"""``/v1/controls``: relay units register with the engine and are listed.

A unit registers at start and again whenever it finds the engine anew; the
newest registration of a host replaces the earlier one in the storage's relay
units (:meth:`~rpymostat.storage.interface.IStorage.put_relay_unit`).  Each
registration is announced as ``control.registered``, on which the decision
loop runs at once, so a restarted unit gets its desired states within a second.
"""

from urllib.parse import urlsplit

from rpymostat.api.errors import InvalidContent, api_app, json_bytes, render_failure
from rpymostat.api.jsonio import read_json
from rpymostat.api.shapes import control_document


class ControlsApi:
    """The ``/v1/controls`` routes: register, and list by host id."""

    app = api_app()

    def __init__(self, validator, storage, clock, events, access):
        self._validator = validator
        self._storage, self._clock, self._events, self._access = storage, clock, events, access

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/register", methods=["POST"])
    async def register(self, request):
        document = read_json(request)
        self._validator.check("ControlRegistration", document)
        _check_url(document["url"])
        host_id = document["host_id"]
        await self._access.authorize(request, "controls:register", host_id=host_id)
        record = await self._storage.put_relay_unit(host_id, document, self._clock.seconds())
        self._events.publish("control.registered", self._clock.seconds(), host_id=host_id)
        return json_bytes(request, 201, control_document(record))

    @app.route("/", methods=["GET"])
    async def list(self, request):
        records = await self._storage.relay_units()
        return json_bytes(request, 200, {"controls": [control_document(r) for r in records]})


def _check_url(url):
    """The engine will send commands to this URL: its host and port must parse."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is the check: a bad port raises ValueError
    except ValueError as error:
        raise InvalidContent(f"url: {url!r} is not a usable URL ({error})") from None
    if not parts.hostname:
        raise InvalidContent(f"url: {url!r} names no host")
