import pytest

from units import celsius_to_kelvin, convert, kelvin_to_celsius


def test_kelvin():
    assert celsius_to_kelvin(0) == pytest.approx(273.15)
    assert kelvin_to_celsius(0) == pytest.approx(-273.15)


@pytest.mark.parametrize("value, a, b, want", [(100, "C", "F", 212), (32, "F", "K", 273.15),
                                               (0, "K", "F", -459.67), (20, "C", "C", 20)])
def test_convert(value, a, b, want):
    assert convert(value, a, b) == pytest.approx(want)


def test_below_absolute_zero_and_unknown_unit():
    with pytest.raises(ValueError):
        convert(-1, "K", "C")
    with pytest.raises(ValueError):
        convert(1, "C", "R")
