"""Every relay output of the unit, behind its safety rules.

The backends only switch hardware; the switchboard decides whether a switch
may happen.  Minimum on and off times are measured from each output's real
last switch (persisted by :class:`~rpymostat_control.state_file.StateFile`,
so a restarted daemon keeps counting), and no command from the API can break
them.  Only safe states may (:meth:`Switchboard.to_safe_states`, and outputs
found at start otherwise than this unit left them), because a lost engine or
a stopping daemon must not leave a boiler running; and so may the engine's
*safety* off (:meth:`Switchboard.command` with a ``safety`` reason: an
overheat must not wait out a minimum run).  Ages come from the injected
monotonic clock, switch stamps from the injected wall ``clock``; all calls
happen on the reactor thread.  Persisting a switch goes through an injected
``save`` (the daemon's writes it on a worker thread), so the switchboard
itself stays synchronous.
"""

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from twisted.logger import Logger

from rpymostat.protocol.times import iso_utc
from rpymostat_control.relays.interface import RelayFault
from rpymostat_control.state_file import StateFile, Switched

log = Logger()


class UnknownRelay(KeyError):
    """No output has this id."""


class TooSoon(Exception):
    """A minimum on/off time forbids the switch; ``retry_after`` seconds remain."""

    def __init__(self, message: str, relay_id: str, retry_after: float):
        super().__init__(message)
        self.message, self.relay_id, self.retry_after = message, relay_id, retry_after


@dataclasses.dataclass
class Output:
    """One relay output and what the switchboard knows of it."""

    relay_id: str
    backend: object
    alias: object
    safe_state: bool
    state: bool
    #: Wall-clock time (epoch seconds) of the last switch: persisted, and shown as ``since``.
    since: float
    #: The same moment on the monotonic clock, from which ages are measured.
    started: float


def on_off(state: bool) -> str:
    return "on" if state else "off"


class SafeStates(NamedTuple):
    """What :meth:`Switchboard.to_safe_states` did: outputs switched, and outputs it could not set."""

    switched: list[str]
    failed: list[str]


class Switchboard:
    """The outputs of ``backends``, switched only within their minimum times.

    Building it reads every output's current state (a :class:`RelayFault`
    there is fatal: the daemon cannot start on hardware it cannot read) and
    reconciles it with the state file: an output exactly as this unit last set
    it keeps that state and its switch time, so the engine's last command holds
    for the first lease as it would have without the restart; any other output
    (reset by a restart of the backend or a power cut, found with no record, or
    with an unreadable file) is put in its safe state at once, since no engine
    commanded what it is in.  The result is saved at once, on the calling
    thread; an unwritable data directory is fatal too, since restarts would then
    forget switch times.  Later switches are handed to ``save`` (a callable
    taking ``{relay_id: Switched}``; default: :meth:`StateFile.save` right away,
    a failure logged), which may write later but must write the newest last.

    Ages (minimum times, ``seconds_in_state``) are measured with ``monotonic``
    (a callable returning seconds, :func:`time.monotonic` by default), so a
    wall-clock jump (NTP setting the clock of a Pi without a real-time clock)
    neither shortens nor lengthens them.  The wall clock, ``clock.seconds()``,
    only stamps switches for the state file and the ``since`` display; at start
    each persisted ``since`` is converted once into an age (``now - since``,
    never below 0) on the monotonic clock.
    """

    def __init__(
        self,
        backends: Iterable,
        clock,
        state_file: StateFile,
        min_on: float,
        min_off: float,
        safe_states: Mapping[str, bool],
        monotonic: Callable[[], float] = time.monotonic,
        save: Callable[[dict[str, Switched]], None] | None = None,
    ):
        self._clock = clock
        self._monotonic = monotonic
        self._state_file = state_file
        self._save_later = save if save is not None else self._save_now
        self.min_on, self.min_off = min_on, min_off
        self.backends = list(backends)
        self._closed = False
        self._outputs: dict[str, Output] = {}
        saved = state_file.load()
        now, started = clock.seconds(), monotonic()
        for backend in self.backends:
            for relay_id, alias in sorted(backend.relays().items()):
                if relay_id in self._outputs:
                    raise ValueError(f"two relay backends both have an output {relay_id!r}")
                try:
                    state = bool(backend.get(relay_id))
                except RelayFault as error:
                    raise RelayFault(f"cannot read relay {relay_id} at start: {error}") from None
                self._outputs[relay_id] = Output(
                    relay_id,
                    backend,
                    alias,
                    bool(safe_states.get(relay_id, False)),
                    state,
                    now,
                    started,
                )
        unknown = sorted(set(safe_states) - set(self._outputs))
        if unknown:
            raise ValueError(
                f"RPYMOSTAT_SAFE_STATES names {', '.join(unknown)}, which no relay backend"
                f" found; outputs found: {', '.join(self.relay_ids()) or 'none'}"
            )
        for output in self._outputs.values():
            before = saved.get(output.relay_id)
            if before is not None and before.state == output.state:
                if before.since <= now:  # else the clock was set back since: count from now
                    output.since, output.started = before.since, started - (now - before.since)
            else:
                self._start_safe(output, before)
        self._save()
        for output in self._outputs.values():
            log.info(
                "relay {relay_id} ({type}) is {state} since {since}; safe state {safe}",
                relay_id=output.relay_id,
                type=output.backend.name,
                state=on_off(output.state),
                since=iso_utc(output.since),
                safe=on_off(output.safe_state),
            )

    def _start_safe(self, output: Output, before) -> None:
        """At start, ``output`` is not as this unit left it: to its safe state, counted from now."""
        if output.state == output.safe_state:
            return
        try:
            output.backend.set(output.relay_id, output.safe_state)
        except RelayFault as error:
            raise RelayFault(f"cannot switch relay {output.relay_id} to its safe state at start: {error}") from None
        recorded = "has no record of it" if before is None else f"last set it {on_off(before.state)}"
        log.warn(
            "relay {relay_id} is {found} at start but this unit {recorded}: switched {safe}, its safe state",
            relay_id=output.relay_id,
            found=on_off(output.state),
            recorded=recorded,
            safe=on_off(output.safe_state),
        )
        output.state = output.safe_state

    def relay_ids(self) -> list[str]:
        return sorted(self._outputs)

    def _output(self, relay_id: str) -> Output:
        try:
            return self._outputs[relay_id]
        except KeyError:
            raise UnknownRelay(relay_id) from None

    def _age(self, output: Output) -> float:
        """Seconds in the current state, on the monotonic clock."""
        return self._monotonic() - output.started

    def _snapshot(self) -> dict[str, Switched]:
        return {o.relay_id: Switched(o.state, o.since) for o in self._outputs.values()}

    def _save(self) -> None:
        self._state_file.save(self._snapshot())

    def _save_now(self, switched: dict[str, Switched]) -> None:
        """The default ``save``: write at once; a failing disk is logged, the switch stands."""
        try:
            self._state_file.save(switched)
        except OSError as error:
            log.error(
                "could not save relay switch times to {path}: {error}; a restart would"
                " count minimum times from the restart",
                path=str(self._state_file.path),
                error=error,
            )

    def _record(self, output: Output, state: bool) -> None:
        """``output`` really switched to ``state`` now; hand the new states to ``save``."""
        output.state, output.since, output.started = state, self._clock.seconds(), self._monotonic()
        self._save_later(self._snapshot())

    def _refresh(self, output: Output) -> None:
        """Read the hardware; a switch nobody asked for (a board reset) counts as a switch."""
        state = bool(output.backend.get(output.relay_id))
        if state != output.state:
            log.warn(
                "relay {relay_id} is {state} though it was switched {recorded} here (reset or"
                " switched by something else); counting its time from now",
                relay_id=output.relay_id,
                state=on_off(state),
                recorded=on_off(output.state),
            )
            self._record(output, state)

    def document(self, relay_id: str) -> dict:
        """The relay's document for the API (its hardware state re-read when possible)."""
        output = self._output(relay_id)
        if not self._closed:
            try:
                self._refresh(output)
            except Exception as error:  # RelayFault, or a plugin's own: show what is known
                log.warn(
                    "cannot read relay {relay_id}: {error}",
                    relay_id=relay_id,
                    error=error if isinstance(error, RelayFault) else repr(error),
                )
        return {
            "type": output.backend.name,
            "state": output.state,
            "alias": output.alias,
            "safe_state": output.safe_state,
            "since": iso_utc(output.since),
            "seconds_in_state": round(self._age(output), 3),
            "min_on_s": self.min_on,
            "min_off_s": self.min_off,
        }

    def documents(self) -> dict[str, dict]:
        return {relay_id: self.document(relay_id) for relay_id in self.relay_ids()}

    def registration(self) -> dict[str, dict]:
        """The ``relays`` of a registration: type, state and, when there is one, alias."""
        relays = {}
        for relay_id, document in self.documents().items():
            relays[relay_id] = {"type": document["type"], "state": document["state"]}
            if document["alias"] is not None:
                relays[relay_id]["alias"] = str(document["alias"])
        return relays

    def command(self, relay_id: str, on: bool, safety: str | None = None) -> bool:
        """Switch as the engine asks; True if the output switched, False if it already was.

        ``safety`` (only with ``on`` False) is the engine's reason for a safety
        off (overheat, no trustworthy temperature, a zone shut down): it is
        carried out at once, minimum on time notwithstanding, and logged as a
        warning with the reason.  Switching on always respects the minimum off
        time, frost protection included.

        An "off" does not depend on reading the relay first: if the read
        fails, the off is written anyway (its minimum on time judged from the
        recorded state), as :meth:`to_safe_states` does, so a relay that can
        still be switched but not read cannot stay on.

        Raises :class:`UnknownRelay`, :class:`TooSoon` (nothing switched) or
        :class:`RelayFault` (hardware failure, or the daemon is stopping).
        """
        if safety is not None and on:
            raise ValueError("a safety command only switches off")
        output = self._output(relay_id)
        if self._closed:
            raise RelayFault("the relay unit is stopping")
        try:
            self._refresh(output)
        except RelayFault as error:
            if on:
                raise
            log.warn(
                "cannot read relay {relay_id} ({error}); switching it off all the same", relay_id=relay_id, error=error
            )
            if not output.state:  # recorded off: write it again, the board may have drifted
                output.backend.set(relay_id, False)
                return False
        if output.state == on:
            return False
        minimum = self.min_on if output.state else self.min_off
        age = self._age(output)
        if safety is not None:
            output.backend.set(relay_id, on)
            self._record(output, on)
            log.warn(
                "relay {relay_id} switched off for safety after {age:.0f} s on (minimum on time"
                " {minimum:g} s notwithstanding): {reason}",
                relay_id=relay_id,
                age=age,
                minimum=minimum,
                reason=safety,
            )
            return True
        if age < minimum:
            state = on_off(output.state)
            raise TooSoon(
                f"minimum {state} time: {relay_id} has been {state} for {age:.0f} of {minimum:g} s",
                relay_id,
                round(minimum - age, 3),
            )
        output.backend.set(relay_id, on)
        self._record(output, on)
        log.info("relay {relay_id} switched {state}", relay_id=relay_id, state=on_off(on))
        return True

    def to_safe_states(self, reason: str) -> SafeStates:
        """Every output to its safe state at once, minimum times notwithstanding.

        Each output is written even if it seems to be there already, so a
        drifted board is corrected; a fault on one is logged and the others go on.
        Returns the ids of the outputs that switched and of those that failed
        (whose state is then unknown: call again until none fails).
        Any exception of a backend counts as a failure of that output (a plugin
        may raise more than :class:`RelayFault`), so this never raises.
        """
        switched, failed = [], []
        for output in (self._outputs[relay_id] for relay_id in self.relay_ids()):
            try:
                try:
                    self._refresh(output)
                except Exception:
                    pass  # the write below is what matters; it reports the fault
                output.backend.set(output.relay_id, output.safe_state)
            except Exception as error:
                failed.append(output.relay_id)
                log.error(
                    "{reason}: relay {relay_id} could not go to its safe state {safe}: {error}",
                    reason=reason,
                    relay_id=output.relay_id,
                    safe=on_off(output.safe_state),
                    error=error if isinstance(error, RelayFault) else repr(error),
                )
                continue
            if output.state != output.safe_state:
                self._record(output, output.safe_state)
                switched.append(output.relay_id)
        if switched:
            log.warn(
                "{reason}: switched {outputs} to their safe states",
                reason=reason,
                outputs=", ".join(f"{r} {on_off(self._outputs[r].state)}" for r in switched),
            )
        elif not failed:
            log.info("{reason}: every output already in its safe state", reason=reason)
        return SafeStates(switched, failed)

    def check(self) -> list[str]:
        """Read every output's hardware once (the daemon's heartbeat); the ids that failed.

        A switch nobody asked for is recorded as :meth:`document` would; a fault,
        of any exception type, is logged and the other outputs are still read.
        Returns at once, doing nothing, once closed.
        """
        failed = []
        if self._closed:
            return failed
        for output in (self._outputs[relay_id] for relay_id in self.relay_ids()):
            try:
                self._refresh(output)
            except Exception as error:
                failed.append(output.relay_id)
                log.warn(
                    "cannot read relay {relay_id}: {error}",
                    relay_id=output.relay_id,
                    error=error if isinstance(error, RelayFault) else repr(error),
                )
        return failed

    def close(self) -> None:
        """Refuse further commands and release every backend (faults are logged)."""
        self._closed = True
        for backend in self.backends:
            try:
                backend.close()
            except Exception as error:
                log.error("closing relay backend {name} failed: {error}", name=backend.name, error=error)
