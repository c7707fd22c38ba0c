"""°C and °F: what the household sees and sets, and the Celsius the engine gets."""

import pytest

from rpymostat_webui.units import CELSIUS, FAHRENHEIT, unit_of


@pytest.mark.parametrize(
    ("celsius", "shown_c", "shown_f"),
    [(21.0, "21.0", "70"), (21.5, "21.5", "71"), (-5.0, "-5.0", "23"), (0.0, "0.0", "32"), (37.0, "37.0", "99")],
)
def test_a_celsius_value_is_shown_in_each_unit(celsius, shown_c, shown_f):
    assert CELSIUS.shown(celsius) == shown_c
    assert FAHRENHEIT.shown(celsius) == shown_f


def test_halves_are_shown_away_from_zero_in_both_units():
    assert FAHRENHEIT.shown(22.5) == "73"  # 72.5 °F; Python's format alone would say 72
    assert FAHRENHEIT.nudged(22.5, +1) == 23.33  # 73 -> 74 °F
    assert CELSIUS.shown(21.25) == "21.3"
    assert CELSIUS.shown(-0.25) == "-0.3"


def test_no_value_is_a_dash():
    assert CELSIUS.shown(None) == "–"
    assert FAHRENHEIT.displayed(None) is None


def test_fahrenheit_setpoints_are_whole_degrees_and_rounded_before_sending():
    # 74.9 °F typed is 75 °F, sent as 23.89 °C; shown back as 75 °F, never 74.
    assert FAHRENHEIT.celsius_of_typed(74.9) == 23.89
    assert FAHRENHEIT.displayed(23.89) == 75.0
    assert FAHRENHEIT.celsius_of_typed(70) == 21.11
    assert FAHRENHEIT.displayed(21.11) == 70.0


def test_celsius_setpoints_move_in_halves():
    assert CELSIUS.celsius_of_typed(21.26) == 21.5
    assert CELSIUS.celsius_of_typed(21.24) == 21.0
    assert CELSIUS.celsius_of_typed(-0.3) == -0.5


def test_plus_and_minus_move_one_step_on_the_unit_grid():
    assert CELSIUS.nudged(21.0, +1) == 21.5
    assert CELSIUS.nudged(21.3, +1) == 21.5  # shown as 21.3: the next half up, not 22.0
    assert CELSIUS.nudged(21.3, -1) == 21.0
    assert CELSIUS.nudged(21.3, +2) == 22.0
    assert CELSIUS.nudged(-0.3, -1) == -0.5
    assert FAHRENHEIT.nudged(21.0, +1) == 21.67  # 69.8 -> 70 °F, +1 -> 71 °F = 21.67 °C
    assert FAHRENHEIT.nudged(21.67, -2) == 20.56  # 71 -> 69 °F


def test_the_browser_cookie_chooses_the_unit_celsius_otherwise():
    assert unit_of("F") is FAHRENHEIT
    assert unit_of("f") is FAHRENHEIT
    assert unit_of("C") is CELSIUS
    assert unit_of(None) is CELSIUS
    assert unit_of("kelvin") is CELSIUS
