"""Settings: defaults, then a JSON file, then the environment."""

import json
import os

from .defaults import DEFAULTS

PREFIX = "APP_"
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def load_settings(path=None, environ=None):
    """Defaults, then the JSON file at ``path``, then environment variables ``APP_<NAME>``.

    Environment values take the type of the default: ints for int settings, booleans from
    true/false/1/0/yes/no for bool settings.
    """
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    if path:
        with open(path) as fh:
            settings.update(json.load(fh))
    for key in settings:
        value = environ.get(PREFIX + key.upper())
        if value is not None:
            settings[key] = _coerce(key, value, DEFAULTS.get(key, settings[key]))
    return settings


def _coerce(key, value, like):
    if isinstance(like, bool):
        lowered = value.strip().lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise ValueError(f"{PREFIX}{key.upper()}: expected a boolean, got {value!r}")
    if isinstance(like, int):
        return int(value)
    return value
