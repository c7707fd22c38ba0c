"""Degrees Celsius or Fahrenheit, per browser, with steps that fit the unit.

The engine speaks Celsius only.  A household that thinks in Fahrenheit
sees and sets whole degrees Fahrenheit; what is sent is the Celsius value
of the rounded Fahrenheit one, so 74 °F set is 74 °F shown back (not
74.9 -> 74.4, the error other thermostat cards make).  Celsius moves in
half degrees.
"""

import dataclasses
import math
from decimal import ROUND_HALF_UP, Decimal

COOKIE = "unit"


@dataclasses.dataclass(frozen=True)
class Unit:
    """One temperature scale: its ``symbol``, the ``step`` of − and +, and the conversions."""

    code: str
    symbol: str
    step: float
    decimals: int

    def from_celsius(self, celsius: float) -> float:
        return celsius if self.code == "C" else celsius * 9 / 5 + 32

    def to_celsius(self, value: float) -> float:
        return value if self.code == "C" else (value - 32) * 5 / 9

    def rounded(self, value: float) -> float:
        """``value`` (in this unit) on this unit's step, halves away from zero."""
        steps = value / self.step
        whole = math.floor(abs(steps) + 0.5) * (1 if steps >= 0 else -1)
        return round(whole * self.step, 2)

    def displayed(self, celsius: float | None) -> float | None:
        """A Celsius value as people see it in this unit: to its decimals, halves away from zero.

        Cards, forms and − / + all count from this one number, so 22.5 °C is
        73 °F everywhere (Python's own formatting would say 72 on a card).
        """
        if celsius is None:
            return None
        exact = Decimal(repr(self.from_celsius(celsius)))
        return float(exact.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP))

    def shown(self, celsius: float | None) -> str:
        """A Celsius value for people: ``21.5`` or ``71`` (a dash for none)."""
        if celsius is None:
            return "–"
        return f"{self.displayed(celsius):.{self.decimals}f}"

    def celsius_of_typed(self, value: float) -> float:
        """What to send the engine for a value typed or stepped in this unit: rounded first."""
        return round(self.to_celsius(self.rounded(value)), 2)

    def nudged(self, celsius: float, steps: int) -> float:
        """The Celsius value ``steps`` steps (− or +) from ``celsius`` as shown, on this unit's grid.

        Counted from the value the household sees: 21.3 °C (a schedule's
        value) goes to 21.5 with + and to 21.0 with −, never two halves at once.
        """
        seen = self.displayed(celsius)
        below = math.floor(seen / self.step + 1e-9) * self.step
        if abs(seen - below) < 1e-9:
            start = seen  # on the grid: one whole step each way
        else:
            start = below if steps > 0 else below + self.step  # off it: the first step reaches the grid
        return self.celsius_of_typed(start + steps * self.step)


CELSIUS = Unit("C", "°C", 0.5, 1)
FAHRENHEIT = Unit("F", "°F", 1.0, 0)
UNITS = {"C": CELSIUS, "F": FAHRENHEIT}


def unit_of(code: str | None) -> Unit:
    """The unit a browser chose (its cookie), Celsius when unset or unknown."""
    return UNITS.get((code or "C").upper(), CELSIUS)
