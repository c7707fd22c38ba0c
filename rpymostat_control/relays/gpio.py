"""Relays driven straight from a Raspberry Pi's GPIO pins, through gpiozero.

Each configured BCM pin drives one relay input.  Cheap relay boards are often
active-low (a low pin closes the relay); ``RPYMOSTAT_GPIO_ACTIVE_HIGH=0`` says
so, and gpiozero then inverts the pin, so "on" always means the relay is closed.

A pin is taken over at the level it is found at, never forced: a daemon
restarted (by systemd's watchdog, say) while its relay ran must not cut a
compressor short.  The switchboard then decides, from the state file, whether
that state holds or goes safe.  Which level is found depends on what held the
pin meanwhile: gpiozero's default driver on a Pi (lgpio) turns a claimed pin
into an input first, so a relay board's own pull resistor usually decides, and
a released pin has dropped its relay.
"""

from zope.interface import implementer

from rpymostat_control.relays.interface import IRelayBackend, RelayFault


@implementer(IRelayBackend)
class GpioRelays:
    """One ``gpiozero.OutputDevice`` per pin in ``config.gpio_pins``, relay id ``gpio{pin}``.

    ``pin_factory`` is handed to gpiozero (None: its default, the Pi's real
    pins); tests pass a ``MockFactory``.  gpiozero is imported only when pins
    are configured, so auto-detection costs nothing on hosts that use none.
    """

    name = "gpio"

    def __init__(self, config, pin_factory=None):
        self._aliases = {f"gpio{pin}": alias for pin, alias in config.gpio_pins.items()}
        self._devices = {}
        if not config.gpio_pins:
            return
        from gpiozero import GPIOZeroError

        self._errors = GPIOZeroError
        for pin in config.gpio_pins:
            try:
                self._devices[f"gpio{pin}"] = _take_over(pin, config.gpio_active_high, pin_factory)
            except GPIOZeroError as error:
                self.close()  # release the pins already claimed, so a retry can claim them
                raise RelayFault(f"GPIO pin {pin} (RPYMOSTAT_GPIO_PINS): {error}") from error

    def relays(self):
        return dict(self._aliases)

    def get(self, relay_id):
        device = self._device(relay_id)
        try:
            return bool(device.is_active)
        except self._errors as error:
            raise RelayFault(f"{relay_id}: {error}") from error

    def set(self, relay_id, on):
        device = self._device(relay_id)
        try:
            if on:
                device.on()
            else:
                device.off()
        except self._errors as error:
            raise RelayFault(f"{relay_id}: {error}") from error

    def close(self):
        """Releases the pins; gpiozero turns them back into inputs, and the board's own
        pull resistors then decide the relays' state."""
        for device in self._devices.values():
            device.close()

    def _device(self, relay_id):
        try:
            return self._devices[relay_id]
        except KeyError:
            raise RelayFault(f"no relay {relay_id!r} in the gpio backend") from None


def _take_over(pin, active_high, pin_factory):
    """An ``OutputDevice`` on ``pin`` driving the level found on it.

    gpiozero's ``initial_value=None`` would keep the pin's output latch, which
    lgpio resets to low when it claims the pin: a closed relay on an active-low
    board for a moment.  So the level is read first and then driven as the
    device's initial value, with no glitch on any driver.
    """
    from gpiozero import GPIODevice, OutputDevice

    probe = GPIODevice(pin, pin_factory=pin_factory)
    try:
        found_on = bool(probe.pin.state) == active_high
    finally:
        probe.close()
    return OutputDevice(pin, active_high=active_high, initial_value=found_on, pin_factory=pin_factory)
