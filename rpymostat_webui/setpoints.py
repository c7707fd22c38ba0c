"""A stored setpoint in a form and back: what the field shows, and what to send when it is saved.

The engine keeps Celsius; a form shows a setpoint in the browser's unit, on
its step (``Unit.setpoint``).  Converting the shown value back is lossy:
18 °C shows as 64 °F, and 64 °F is 17.78 °C.  So a form saved without
touching a setpoint would quietly change it.  :func:`to_send` sends the
stored Celsius unchanged when the typed number is the one the form showed
for it, and the typed value (rounded to the unit's step, then Celsius)
otherwise.  Every form that edits a stored setpoint (schedules, overrides,
zones) uses it.

Pure: no Flask.
"""

import math

from rpymostat_webui.units import Unit


def form_text(celsius: float | None, unit: Unit) -> str:
    """What a setpoint field shows for a stored Celsius value: ``"64"``, ``"21.3"``, ``""`` for none.

    The value as the cards show it (``Unit.displayed``), so a form and a card
    never disagree about the same setpoint.
    """
    shown = unit.displayed(celsius)
    return "" if shown is None else f"{shown:g}"


def typed(text: str | None) -> float | None:
    """The number typed in a setpoint field (a comma is a decimal point), None when empty.

    Raises ValueError for text that is not a finite number.
    """
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def to_send(text: str | None, stored: float | None, unit: Unit) -> float | None:
    """The Celsius to send for a setpoint field holding ``text`` whose stored value is ``stored``.

    None for an empty field; ``stored`` itself when the typed number equals
    the one the form showed for it (18 °C shown as 64 °F stays 18, not
    17.78; 21.3 °C left as 21.3 stays 21.3); otherwise the typed value
    rounded to the unit's step, in Celsius.  Raises ValueError for text that is not a finite number,
    its message ready to show beside the field.
    """
    try:
        value = typed(text)
    except ValueError:  # in the household's words, the same on every form that edits a setpoint
        raise ValueError(f"Give a number of degrees, such as {'21' if unit.code == 'C' else '70'}.") from None
    if value is None:
        return None
    if stored is not None and value == unit.displayed(stored):
        return stored
    return unit.celsius_of_typed(value)
