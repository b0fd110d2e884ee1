"""Settings: defaults, then a JSON file, then the environment."""

import json
import os

from .defaults import DEFAULTS

PREFIX = "APP_"


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
        value = environ.get(PREFIX + key)
        if value is not None:
            settings[key] = value
    return settings
