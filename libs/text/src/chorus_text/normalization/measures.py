"""Percentages, temperatures and units of measure after a number."""

from __future__ import annotations

import re

from chorus_text.normalization.numbers import NUMBER, cardinal

_NUMBER_SIGNED = rf"(-|−)?({NUMBER})"
_PERCENT = re.compile(rf"(?<![\w.]){_NUMBER_SIGNED}\s?%")
_TEMPERATURE = re.compile(rf"(?<![\w.]){_NUMBER_SIGNED}\s?°\s?([CFK])\b")
_DEGREES = re.compile(rf"(?<![\w.]){_NUMBER_SIGNED}\s?°")
_SCALES = {"C": "Celsius", "F": "Fahrenheit", "K": "Kelvin"}
# symbol: (singular, plural); case matters ("mb" is not "MB", "m" is not "M").
_UNITS = {
    "mm": ("millimeter", "millimeters"),
    "cm": ("centimeter", "centimeters"),
    "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"),
    "in": ("inch", "inches"),
    "ft": ("foot", "feet"),
    "mi": ("mile", "miles"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "kg": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"),
    "l": ("liter", "liters"),
    "L": ("liter", "liters"),
    "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "B": ("byte", "bytes"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Kb": ("kilobit", "kilobits"),
    "Mb": ("megabit", "megabits"),
    "Gb": ("gigabit", "gigabits"),
    "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "W": ("watt", "watts"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "V": ("volt", "volts"),
    "mAh": ("milliamp hour", "milliamp hours"),
}
_UNIT = re.compile(
    rf"(?<![\w.]){_NUMBER_SIGNED}\s?("
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![\w/])"
)


def spell_percentages(text: str) -> str:
    """ "50%" -> "fifty percent", "-2.5%" -> "minus two point five percent"."""
    return _PERCENT.sub(lambda m: f"{_signed(m)} percent", text)


def spell_temperatures(text: str) -> str:
    """ "-5°C" -> "minus five degrees Celsius"; a bare "90°" -> "ninety degrees"."""
    text = _TEMPERATURE.sub(
        lambda m: f"{_signed(m)} {_degrees(m.group(2))} {_SCALES[m.group(3)]}", text
    )
    return _DEGREES.sub(lambda m: f"{_signed(m)} {_degrees(m.group(2))}", text)


def spell_units(text: str) -> str:
    """ "10KB" -> "ten kilobytes", "1 km" -> "one kilometer"."""
    return _UNIT.sub(_unit, text)


def _unit(match: re.Match[str]) -> str:
    singular, plural = _UNITS[match.group(3)]
    one = match.group(2) == "1" and not match.group(1)
    return f"{_signed(match)} {singular if one else plural}"


def _signed(match: re.Match[str]) -> str:
    return cardinal(("-" if match.group(1) else "") + match.group(2))


def _degrees(digits: str) -> str:
    return "degree" if digits == "1" else "degrees"
