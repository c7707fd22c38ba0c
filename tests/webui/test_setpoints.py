"""A stored setpoint shown in a form and sent back: unchanged when left as shown, in either unit."""

import pytest

from rpymostat_webui import setpoints
from rpymostat_webui.units import CELSIUS, FAHRENHEIT


@pytest.mark.parametrize(
    ("celsius", "unit", "text"),
    [
        (18.0, FAHRENHEIT, "64"),
        (12.0, FAHRENHEIT, "54"),
        (21.11, FAHRENHEIT, "70"),
        (21.5, CELSIUS, "21.5"),
        (21.0, CELSIUS, "21"),
        (21.3, CELSIUS, "21.3"),  # as the card shows it
        (22.5, FAHRENHEIT, "73"),  # 72.5 °F: halves away from zero, as everywhere
        (None, CELSIUS, ""),
        (None, FAHRENHEIT, ""),
    ],
)
def test_form_text(celsius, unit, text):
    assert setpoints.form_text(celsius, unit) == text


@pytest.mark.parametrize(
    ("text", "stored", "unit", "sent"),
    [
        ("64", 18.0, FAHRENHEIT, 18.0),  # left as shown: not 64 °F's 17.78
        ("54", 12.0, FAHRENHEIT, 12.0),  # not 12.22
        (" 64 ", 18.0, FAHRENHEIT, 18.0),
        ("64.0", 18.0, FAHRENHEIT, 18.0),  # the same number
        ("65", 18.0, FAHRENHEIT, 18.33),  # changed: the typed value
        ("64.4", 18.0, FAHRENHEIT, 17.78),  # another number, rounded to the unit's step
        ("64", None, FAHRENHEIT, 17.78),  # nothing stored (a new rule)
        ("21.3", 21.3, CELSIUS, 21.3),  # 21.3 °C is shown as 21.3: left as it is
        ("21,3", 21.3, CELSIUS, 21.3),
        ("21", 21.3, CELSIUS, 21.0),
        ("21.5", 21.3, CELSIUS, 21.5),  # changed: the typed value, on the half-degree grid
        ("21.4", 21.3, CELSIUS, 21.5),
        ("73", 22.5, FAHRENHEIT, 22.5),  # 72.5 °F is shown as 73
        ("", 18.0, FAHRENHEIT, None),
        ("  ", None, CELSIUS, None),
        (None, 18.0, CELSIUS, None),
    ],
)
def test_to_send_keeps_the_stored_value_left_as_shown(text, stored, unit, sent):
    assert setpoints.to_send(text, stored, unit) == sent


@pytest.mark.parametrize("text", ["warm", "nan", "inf", "-inf", "1e400", "2 1"])
def test_to_send_refuses_what_is_no_finite_number(text):
    with pytest.raises(ValueError):
        setpoints.to_send(text, 18.0, CELSIUS)
    with pytest.raises(ValueError):
        setpoints.typed(text)


def test_typed():
    assert setpoints.typed("19,5") == 19.5
    assert setpoints.typed("") is None
