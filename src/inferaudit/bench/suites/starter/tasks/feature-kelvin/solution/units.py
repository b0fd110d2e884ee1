"""Temperature units."""

ABSOLUTE_ZERO_C = -273.15


def celsius_to_fahrenheit(c):
    return c * 9 / 5 + 32


def fahrenheit_to_celsius(f):
    return (f - 32) * 5 / 9


def celsius_to_kelvin(c):
    return c - ABSOLUTE_ZERO_C


def kelvin_to_celsius(k):
    return k + ABSOLUTE_ZERO_C


TO_C = {"C": lambda v: v, "F": fahrenheit_to_celsius, "K": kelvin_to_celsius}
FROM_C = {"C": lambda v: v, "F": celsius_to_fahrenheit, "K": celsius_to_kelvin}


def convert(value, from_unit, to_unit):
    if from_unit not in TO_C or to_unit not in FROM_C:
        raise ValueError(f"unknown unit: {from_unit if from_unit not in TO_C else to_unit!r}")
    celsius = TO_C[from_unit](value)
    if celsius < ABSOLUTE_ZERO_C - 1e-9:
        raise ValueError(f"{value} {from_unit} is below absolute zero")
    return FROM_C[to_unit](celsius)
