"""Fakes at the control daemon's hardware boundary, for tests of the code above it.

:class:`FakePhidgetBus` stands for the USB bus with Phidget relay boards on it;
its :meth:`~FakePhidgetBus.channel` makes channels that behave like
``Phidget22.Devices.DigitalOutput.DigitalOutput`` as observed with phidget22
1.26 and no board attached: same method names, ``PhidgetException`` with the
library's codes and descriptions, a channel that only attaches to a matching
board, and calls failing with "Device not Attached" once its board is unplugged.
The relay contract suite runs the Phidget backend over it.
"""

import dataclasses

from Phidget22.ErrorCode import ErrorCode
from Phidget22.Phidget import Phidget
from Phidget22.PhidgetException import PhidgetException


class FakePhidgetException(PhidgetException):
    """A real ``PhidgetException`` (code, description, details) made without the C library,
    which the real class asks for the description."""

    def __init__(self, code, description, details=""):
        Exception.__init__(self, code)
        self.code = code
        self.description = description
        self.details = details


def _timed_out():
    return FakePhidgetException(
        ErrorCode.EPHIDGET_TIMEOUT,
        "Timed Out",
        "No Phidgets were detected at all. Make sure your device is attached.",
    )


def _not_attached():
    return FakePhidgetException(ErrorCode.EPHIDGET_NOTATTACHED, "Device not Attached")


@dataclasses.dataclass
class FakePhidgetBoard:
    """A relay board: ``states[channel]`` is True while that relay is closed."""

    serial: int
    states: list[bool]
    plugged: bool = True


class FakePhidgetBus:
    """The boards plugged in, and every attach attempt the channels made.

    ``attempts`` lists ``(serial asked for, channel, timeout in ms)`` per
    ``openWaitForAttachment``, the serial being ``Phidget.ANY_SERIAL_NUMBER``
    (-1) when none was set, so a test can see which board a caller asked for.
    """

    def __init__(self):
        self.boards = {}
        self.attempts = []
        self.held = set()

    def plug(self, serial, channels=4, states=None):
        """Plug a board in, or back in: it lost power, so its relays are off unless ``states``
        says otherwise, and channels that were open on it attach again."""
        states = list(states) if states is not None else [False] * channels
        board = self.boards.setdefault(serial, FakePhidgetBoard(serial, states))
        board.states, board.plugged = states, True
        return board

    def unplug(self, serial):
        """Pull the board's cable: its open channels fail until it is plugged in again."""
        self.boards[serial].plugged = False

    def hold(self, serial, channel):
        """Another program opened that channel, so no channel here can attach to it."""
        self.held.add((serial, channel))

    def channel(self):
        """A new unopened channel: pass this method as a backend's ``channel_factory``."""
        return FakeDigitalOutput(self)

    def _match(self, serial, channel) -> FakePhidgetBoard | None:
        for board in self.boards.values():
            if (
                board.plugged
                and serial in (Phidget.ANY_SERIAL_NUMBER, board.serial)
                and channel < len(board.states)
                and (board.serial, channel) not in self.held
            ):
                return board
        return None


class FakeDigitalOutput:
    """One DigitalOutput channel; the subset of the real API a relay backend needs."""

    def __init__(self, bus):
        self._bus = bus
        self._serial = Phidget.ANY_SERIAL_NUMBER
        self._channel = 0
        self._board = None

    def setDeviceSerialNumber(self, DeviceSerialNumber):
        self._serial = _c_int(DeviceSerialNumber)

    def getDeviceSerialNumber(self):
        """The attached board's serial, else the one asked for (-1: any), as the real one."""
        return self._board.serial if self._board else self._serial

    def setChannel(self, Channel):
        self._channel = _c_int(Channel)

    def getChannel(self):
        return self._channel

    def openWaitForAttachment(self, timeout):
        """Attach at once or raise "Timed Out"; a channel that timed out is closed again."""
        self._bus.attempts.append((self._serial, self._channel, _c_int(timeout)))
        board = self._bus._match(self._serial, self._channel)
        if board is None:
            raise _timed_out()
        self._board = board
        self._bus.held.add((board.serial, self._channel))

    def getAttached(self):
        return bool(self._board and self._board.plugged)

    def getState(self):
        self._check_attached()
        return self._board.states[self._channel]

    def setState(self, State):
        self._check_attached()
        self._board.states[self._channel] = bool(State)

    def close(self):
        """Release the channel; closing twice is no error, as with the real library."""
        if self._board:
            self._bus.held.discard((self._board.serial, self._channel))
        self._board = None

    def _check_attached(self):
        if not self.getAttached():
            raise _not_attached()


def _c_int(value):
    """The real methods pass their arguments through ctypes, which refuses non-integers."""
    if not isinstance(value, int):
        raise TypeError("wrong type")
    return value
