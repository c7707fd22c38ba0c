"""A daemon's link to its engine: who it is to the engine, and who the engine must be.

Every daemon that talks to the engine (the sensor daemon, the relay unit,
the web UI) needs the same four things, so they live here once:

- its credentials: a token given by hand, else the stored ones, else none,
  in which case it pairs (:mod:`rpymostat.protocol.pairing`) with the first
  engine it knows of, which is then the one it trusts;
- the ``Authorization`` header for its requests (:meth:`EngineLink.headers`);
- the check that an engine found on the LAN is the one it paired with
  (:meth:`EngineLink.vet`, given to the engine finder), so its token and data
  never go to a process that merely advertises ``_rpymostat._tcp``: the
  engine's proof covers the URL dialled, so a rogue relaying the challenge to
  the real engine gains nothing, and a host that pinned the engine's TLS
  certificate refuses any plain ``http`` URL without sending it anything;
- the engine's TLS certificate, pinned at pairing when the engine speaks
  ``https`` (:mod:`rpymostat.protocol.pinning`), so no other certificate is
  accepted afterwards;
- what to do when the engine answers ``401`` to its token
  (:meth:`EngineLink.refused`): the token was revoked, or the engine's
  database replaced, so the stored credentials are moved aside and the
  daemon pairs again.  A token given by hand is the admin's to replace, so
  it is only logged.
"""

from collections.abc import Callable

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger

from rpymostat.protocol import PAIR_PROOF_PATH, below_api_base
from rpymostat.protocol.client import Unreachable
from rpymostat.protocol.credentials import (
    CREDENTIALS_FILE,
    REVOKED_SUFFIX,
    Credentials,
    credentials_path,
    forget,
    load,
)
from rpymostat.protocol.pairing import DEFAULT_POLL_INTERVAL, Pairing
from rpymostat.protocol.pinning import Pins
from rpymostat.protocol.tokens import new_nonce, proof_matches

#: Below the engine URL (which ends in the API path): where an engine proves itself.
PROOF_SUFFIX = below_api_base(PAIR_PROOF_PATH)

#: Seconds after a pairing broke unexpectedly (a bug, a full disk) before the link pairs again.
PAIRING_RESTART_S = 30.0


class EngineLink(Service):
    """The credentials of ``host_id`` in ``role`` and their use.

    ``role`` is what the daemon pairs as: ``sensor`` or ``control`` (a token
    bound to ``host_id``), or ``admin`` or ``user`` for the web UI (a token
    bound to no host); the engine names the token ``<role>-<host_id>``.

    ``hand_given`` is a token from the settings (see
    :func:`rpymostat.protocol.credentials.hand_given`); without one the stored
    credentials in ``data_dir`` are used, and without those the link pairs,
    while running, with the engine ``engine_url()`` names (None: none known
    yet).  ``client`` is a :class:`~rpymostat.protocol.client.JsonClient`.
    Two daemons sharing a data directory need a ``credentials_file`` each.
    ``on_paired()`` is called once a pairing is approved.
    """

    log = Logger()

    def __init__(
        self,
        client,
        clock,
        data_dir,
        host_id: str,
        role: str,
        engine_url: Callable[[], str | None],
        hand_given: Credentials | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        first_backoff: float = 1.0,
        max_backoff: float = 300.0,
        credentials_file: str = CREDENTIALS_FILE,
        on_paired: Callable[[], object] | None = None,
    ):
        self._client, self._clock, self._data_dir = client, clock, data_dir
        self._on_paired = on_paired
        self._file = credentials_file
        self.host_id, self.role = host_id, role
        self._engine_url = engine_url
        self._pairing_options = dict(
            poll_interval=poll_interval,
            first_backoff=first_backoff,
            max_backoff=max_backoff,
            credentials_file=credentials_file,
        )
        self.hand_given = hand_given is not None
        self.credentials: Credentials | None = hand_given or load(data_dir, credentials_file)
        if not self.hand_given and getattr(client, "pins", False) is None:
            # Pair (or paired): pin the engine's TLS certificate.  A token given by hand has
            # no pin, so its https is checked against the system's certificate authorities.
            client.pins = Pins(self._pinned)
        self.pairing: Pairing | None = None
        """The pairing under way, if any (its ``code`` is the one to approve)."""
        self._warned: set[str] = set()  # engines already logged as unable to prove
        self._restart = None  # the delayed call that pairs again after a pairing broke

    def _pinned(self) -> str | None:
        """The engine certificate's fingerprint this host pinned at pairing (None: take any)."""
        return None if self.credentials is None else self.credentials.fingerprint

    @property
    def paired(self) -> bool:
        """Whether the link has a token to send (paired, stored or given by hand)."""
        return self.credentials is not None

    def headers(self) -> dict[str, str]:
        """The headers that authenticate this host's requests: none until it has a token."""
        if self.credentials is None:
            return {}
        return {"Authorization": f"Bearer {self.credentials.token}"}

    def startService(self):
        super().startService()
        if self.credentials is None:
            self._pair()
        elif not self.credentials.checks_engine:
            self.log.warn(
                "this host's token was given by hand, not paired: the engine's identity is not checked,"
                " so any process advertising an engine on the LAN would get it"
            )
        else:
            self.log.info("using the stored engine credentials ({name})", name=self.credentials.name)

    def stopService(self):
        super().stopService()
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        if self.pairing is not None:
            self.pairing.stop()

    def _pair(self) -> None:
        self.pairing = Pairing(
            self._client,
            self._engine_url,
            self.host_id,
            self.role,
            self._clock,
            self._data_dir,
            **self._pairing_options,
        )
        self.pairing.run().addCallbacks(self._paired, self._pairing_ended)

    def _paired(self, credentials: Credentials) -> None:
        self.pairing, self.credentials = None, credentials
        if self._on_paired is not None:
            self._on_paired()  # e.g. the relay unit registers now, not at its next retry

    def _pairing_ended(self, failure) -> None:
        self.pairing = None
        if failure.check(CancelledError):
            return
        # Pairing retries every failure it expects; this is a bug or a broken host. Try again later.
        self.log.failure("pairing failed; this host pairs again in {delay:.0f} s", failure, delay=PAIRING_RESTART_S)
        if self.running and self._restart is None:
            self._restart = self._clock.callLater(PAIRING_RESTART_S, self._pair_again)

    def _pair_again(self) -> None:
        self._restart = None
        if self.running and self.credentials is None and self.pairing is None:
            self._pair()

    def refused(self) -> None:
        """The engine answered 401 to this host's token: forget it and pair again."""
        if self.hand_given:
            self.log.error(
                "the engine refused the token given in RPYMOSTAT_TOKEN or RPYMOSTAT_TOKEN_FILE (401):"
                " it was revoked or this engine never made it; give this host a new one"
            )
            return
        if self.credentials is None:
            return  # already pairing again
        self.log.error(
            "the engine refused this host's token {name} (401): it was revoked or the engine's database"
            " was replaced; forgetting it (kept in {path}) and pairing again",
            name=self.credentials.name,
            path=str(credentials_path(self._data_dir, self._file)) + REVOKED_SUFFIX,
        )
        self.credentials = None
        try:
            forget(self._data_dir, self._file)
        except OSError as error:
            self.log.error("could not move the refused credentials aside: {error}", error=error)
        if self.running:
            self._pair()

    def vet(self, url: str) -> Deferred:
        """Fires True if the engine at ``url`` may be used: it proves it holds this host's secret.

        The proof is asked for, and must be made for, ``url`` itself; with a
        pinned certificate an ``url`` not starting ``https:`` is refused unasked.

        True without asking while unpaired (the first engine is the one to
        pair with) or with a token given by hand (nothing to check it
        with).  Fails with :class:`~rpymostat.protocol.client.Unreachable`
        when the engine cannot answer now (away, busy, broken), which is
        not a verdict on who it is.
        """
        return ensureDeferred(self._vet(url))

    async def _vet(self, url: str) -> bool:
        credentials = self.credentials
        if credentials is None or not credentials.checks_engine:
            return True
        if credentials.fingerprint is not None and not url.startswith("https:"):
            # Paired over TLS: plain HTTP would send the token in clear and skip the pinned certificate.
            return self._refuse(url, "it speaks plain HTTP but this host pinned the engine's TLS certificate")
        nonce = new_nonce()
        document = {"name": credentials.name, "nonce": nonce, "url": url}
        response = await self._client.request("POST", url + PROOF_SUFFIX, document)
        if response.code == 429 or response.code >= 500:
            raise Unreachable(f"POST {url}{PROOF_SUFFIX}: {response.code}: {response.error}")
        proof = response.body.get("proof") if isinstance(response.body, dict) else None
        if response.code == 200 and proof_matches(credentials.secret, nonce, url, proof):
            self._warned.discard(url)
            return True
        if response.code == 404:
            reason = (
                f"it does not know this host's token {credentials.name}; if this is the engine whose"
                f" database was replaced, delete {credentials_path(self._data_dir, self._file)} here to pair again"
            )
        elif response.code == 200:
            reason = "its proof is wrong"
        else:
            reason = f"it answered {response.code}: {response.error}"
        return self._refuse(url, reason)

    def _refuse(self, url: str, reason: str) -> bool:
        """Log why the engine at ``url`` is not used (at warn the first time, then at debug)."""
        level = self.log.debug if url in self._warned else self.log.warn
        self._warned.add(url)
        level(
            "ignoring the engine at {url}: it cannot prove it is the one this host paired with ({reason})",
            url=url,
            reason=reason,
        )
        return False
