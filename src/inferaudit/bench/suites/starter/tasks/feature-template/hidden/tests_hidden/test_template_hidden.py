from types import SimpleNamespace

import pytest

from template import render


def test_dotted_dict_and_attribute():
    ctx = {"user": {"name": "Ada", "team": SimpleNamespace(name="core")}}
    assert render("{{ user.name }} of {{user.team.name}}", ctx) == "Ada of core"


def test_filters_chain():
    assert render("{{ name | upper }}", {"name": "ada"}) == "ADA"
    assert render("{{ name | lower | title }}", {"name": "aDA lOVELACE"}) == "Ada Lovelace"


def test_missing_name_names_the_path():
    with pytest.raises(KeyError, match="user.email"):
        render("{{ user.email }}", {"user": {"name": "Ada"}})


def test_unknown_filter():
    with pytest.raises(ValueError):
        render("{{ name | shout }}", {"name": "x"})


def test_no_placeholders():
    assert render("plain {text}", {}) == "plain {text}"
