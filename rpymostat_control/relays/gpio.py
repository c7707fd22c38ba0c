"""Relays driven straight from a Raspberry Pi's GPIO pins, through gpiozero.

Each configured BCM pin drives one relay input.  Cheap relay boards are often
active-low (a low pin closes the relay); ``RPYMOSTAT_GPIO_ACTIVE_HIGH=0`` says
so, and gpiozero then inverts the pin, so "on" always means the relay is closed.
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
        from gpiozero import GPIOZeroError, OutputDevice

        self._errors = GPIOZeroError
        for pin in config.gpio_pins:
            try:
                self._devices[f"gpio{pin}"] = OutputDevice(
                    pin, active_high=config.gpio_active_high, initial_value=False,
                    pin_factory=pin_factory,
                )
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
