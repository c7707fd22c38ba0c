"""The Phidgets 1014 USB relay kit (four relays), through the Phidget22 library.

Each relay is a Phidget22 ``DigitalOutput`` channel.  Channel 0 attaches to
the configured board, or to any board when no serial is configured; the other
channels are then pinned to the serial channel 0 found, so that two boards on
one host can never be mixed into one set of relays.

Attaching switches nothing: each relay is reported as ``getState`` finds it,
so a restarted daemon does not cut short a compressor it left running; the
switchboard decides from the state file whether that state holds or goes
safe.
"""

from twisted.logger import Logger
from zope.interface import implementer

from rpymostat_control.relays.interface import IRelayBackend, RelayFault

log = Logger()


@implementer(IRelayBackend)
class PhidgetRelays:
    """Relay ids ``phidget-{serial}-{channel}``, each left as found when attached.

    Building blocks for up to ``config.phidget_attach_timeout`` seconds while
    waiting for the board.  No board (or no usable Phidget22 C library) means
    no relays, logged, so auto-detection works on hosts without one; unless
    ``RPYMOSTAT_PHIDGET_SERIAL`` names a board, whose absence is a
    :class:`RelayFault`.  ``channel_factory`` makes one unopened channel per
    call (None: the real ``DigitalOutput``; tests pass a fake).
    """

    name = "phidget22"

    def __init__(self, config, channel_factory=None):
        # Importing Phidget22 is pure Python; its C library (and libusb) loads
        # only when the first real channel is made.
        from Phidget22.PhidgetException import PhidgetException

        if channel_factory is None:
            from Phidget22.Devices.DigitalOutput import DigitalOutput as channel_factory
        self._errors = PhidgetException
        self._channels = {}
        opened = []
        try:
            self._attach(config, channel_factory, opened)
        except BaseException:
            _close(opened)
            raise
        if not self._channels:
            _close(opened)  # in case a channel that timed out is still looking for its board

    def _attach(self, config, channel_factory, opened):
        count = config.phidget_channels
        if count == 0:
            return
        timeout_ms = max(1, round(config.phidget_attach_timeout * 1000))
        try:
            first = self._open(channel_factory, config.phidget_serial, 0, timeout_ms, opened)
        except (self._errors, OSError) as error:
            self._absent(config, _describe(error))
            return
        serial = first.getDeviceSerialNumber()
        channels = [first]
        for number in range(1, count):
            try:
                channels.append(self._open(channel_factory, serial, number, timeout_ms, opened))
            except self._errors as error:
                raise RelayFault(
                    f"Phidget board {serial} channel {number} did not attach:"
                    f" {_describe(error)}; does the board have RPYMOSTAT_PHIDGET_CHANNELS={count}"
                    f" channels, and does no other program use it?"
                ) from error
        for number, channel in enumerate(channels):
            relay_id = f"phidget-{serial}-{number}"
            self._channels[relay_id] = channel
        log.info("Phidget relay board {serial} attached with {count} relays", serial=serial, count=count)

    @staticmethod
    def _open(channel_factory, serial, number, timeout_ms, opened):
        channel = channel_factory()
        opened.append(channel)
        if serial is not None:
            channel.setDeviceSerialNumber(serial)
        channel.setChannel(number)
        channel.openWaitForAttachment(timeout_ms)
        return channel

    @staticmethod
    def _absent(config, reason):
        if config.phidget_serial is not None:
            raise RelayFault(
                f"Phidget board {config.phidget_serial} (RPYMOSTAT_PHIDGET_SERIAL) did not"
                f" attach within {config.phidget_attach_timeout:g} s: {reason}"
            )
        log.info(
            "no Phidget relay board attached within {timeout:g} s ({reason}); the phidget22 backend has no relays",
            timeout=config.phidget_attach_timeout,
            reason=reason,
        )

    def relays(self):
        return dict.fromkeys(self._channels)

    def get(self, relay_id):
        channel = self._channel(relay_id)
        try:
            return bool(channel.getState())
        except self._errors as error:
            raise RelayFault(f"{relay_id}: {_describe(error)}") from error

    def set(self, relay_id, on):
        channel = self._channel(relay_id)
        try:
            channel.setState(bool(on))
        except self._errors as error:
            raise RelayFault(f"{relay_id}: {_describe(error)}") from error

    def close(self):
        """Closes every channel; calls made after it fail with "Device not Attached"."""
        _close(self._channels.values())

    def _channel(self, relay_id):
        try:
            return self._channels[relay_id]
        except KeyError:
            raise RelayFault(f"no relay {relay_id!r} in the phidget22 backend") from None


def _describe(error):
    """A PhidgetException's own description (its details run to paragraphs); else the error."""
    return getattr(error, "description", None) or str(error)


def _close(channels):
    for channel in channels:
        channel.close()
