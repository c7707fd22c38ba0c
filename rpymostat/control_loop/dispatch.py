"""Sending desired output states to relay units, and reading back what they did.

The engine re-sends every output's desired state on every loop, so a unit
that restarted, or missed a command, converges within one interval and its
lease stays fresh.  A unit may refuse (its own minimum on/off times, 409):
that is not an error, the answer still says what the relay really is.  Any
other failure becomes a :class:`Delivery` with the reason, never an
exception, so one dead unit cannot stop the other zones.

An "off" the safety layer decided carries its reason as ``"safety"``; the
relay unit then switches at once instead of waiting out its minimum on time
(docs/control.rst).  Units are found in the storage's relay units, by the
host id before the ``/`` of an output address; each command carries the
secret of the unit's registration (``Authorization: Bearer``), as a unit
obeys only the engine it registered with.  Their addresses are
remembered from the last successful read, so that a database outage, which
itself sends every output to its safe state, cannot keep those commands from
the units.
"""

import dataclasses
from urllib.parse import quote

from rpymostat.protocol import RELAYS_PATH

#: A ``seconds_in_state`` beyond ten years is a broken unit, not a relay (NaN fails the range too).
MAX_SECONDS_IN_STATE = 10 * 365 * 86400.0


@dataclasses.dataclass(frozen=True)
class Delivery:
    """The outcome of sending one output's state: what the relay is now, or why unknown."""

    address: str
    desired: bool
    on: bool | None = None
    seconds_in_state: float | None = None
    note: str | None = None  # the unit refused, or the delivery failed, and why

    @property
    def reached(self) -> bool:
        return self.on is not None


class RelayDispatcher:
    """Posts ``{"state": ...}`` to ``{unit url}/v1/relays/{relay_id}`` of registered units."""

    def __init__(self, storage, client):
        self._storage = storage
        self._client = client
        self._down = {}  # host_id -> note, for units unreachable during this run
        self._known = {}  # host_id -> registration document, from the last successful read

    def begin_run(self):
        """Forget which units failed: a new run tries every unit again.

        Within a run, a unit that did not answer is not asked again for its
        other outputs, so one dead unit costs one timeout, not one per relay.
        """
        self._down = {}

    async def send(self, address, desired, safety=None) -> Delivery:
        """Tell the output's unit to be ``desired``; ``safety`` (a reason) marks a safety off."""
        host_id, _, relay_id = address.partition("/")
        try:
            unit = await self._storage.relay_unit(host_id)
        except Exception:
            if host_id not in self._known:
                raise
            registration = self._known[host_id]  # the database is down: the unit is where it was
        else:
            if unit is None:
                self._known.pop(host_id, None)
                return Delivery(address, desired, note=f"no relay unit {host_id!r} has registered")
            registration = self._known[host_id] = unit.registration
        if host_id in self._down:
            return Delivery(address, desired, note=self._down[host_id])
        url = f"{registration['url'].rstrip('/')}{RELAYS_PATH}/{quote(relay_id, safe='')}"
        command = {"state": desired}
        if safety is not None and not desired:
            command["safety"] = safety[:200]
        try:
            response = await self._client.request("POST", url, command, headers=_authorization(registration))
        except Exception as error:  # Unreachable, or a URL the HTTP client cannot use
            self._down[host_id] = f"relay unit {host_id!r} unreachable: {error}"
            return Delivery(address, desired, note=self._down[host_id])
        body = response.body if isinstance(response.body, dict) else {}
        if response.code == 200:
            return _reported(address, desired, body, None)
        if response.code == 409 and isinstance(body.get("relay"), dict):
            return _reported(address, desired, body["relay"], f"the unit refused: {response.error}")
        return Delivery(address, desired, note=f"relay unit {host_id!r} answered {response.code}: {response.error}")


def _authorization(registration):
    """``Authorization: Bearer <secret>`` from the unit's registration, without which it obeys nobody.

    A registration stored before units had secrets has none: the request then
    goes without, and the unit's 401 becomes a delivery note like any refusal.
    """
    secret = registration.get("secret")
    return {"Authorization": f"Bearer {secret}"} if isinstance(secret, str) else None


def _reported(address, desired, relay, note):
    state, held = relay.get("state"), relay.get("seconds_in_state")
    if (
        not isinstance(state, bool)
        or isinstance(held, bool)
        or not isinstance(held, (int, float))
        or not 0 <= held <= MAX_SECONDS_IN_STATE
    ):
        return Delivery(address, desired, note="the relay unit's answer lacks a valid state or seconds_in_state")
    return Delivery(address, desired, state, float(held), note)
