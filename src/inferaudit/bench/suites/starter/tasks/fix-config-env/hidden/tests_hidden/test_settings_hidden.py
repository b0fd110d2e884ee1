import json

import pytest

from settings import load_settings


def test_defaults():
    assert load_settings(environ={})["port"] == 8080


def test_env_overrides_with_types():
    got = load_settings(environ={"APP_PORT": "9000", "APP_DEBUG": "TRUE", "APP_HOST": "0.0.0.0"})
    assert got["port"] == 9000 and got["debug"] is True and got["host"] == "0.0.0.0"


def test_false_spellings():
    assert load_settings(environ={"APP_DEBUG": "no"})["debug"] is False
    assert load_settings(environ={"APP_DEBUG": "0"})["debug"] is False


def test_env_beats_file(tmp_path):
    path = tmp_path / "app.json"
    path.write_text(json.dumps({"port": 7000, "workers": 8}))
    got = load_settings(path, environ={"APP_PORT": "7100"})
    assert got["port"] == 7100 and got["workers"] == 8


def test_bad_boolean():
    with pytest.raises(ValueError):
        load_settings(environ={"APP_DEBUG": "maybe"})
