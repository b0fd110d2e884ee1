from template import render


def test_plain_name():
    assert render("Hi {{ name }}!", {"name": "Ada"}) == "Hi Ada!"
