import pytest

from inventory import Inventory, Item


def stocked():
    inv = Inventory()
    inv.add(Item("pen", 1.25, 4))
    inv.add(Item("pad", 3.10, 3))
    return inv


def test_total_value():
    assert stocked().total_value() == 14.30


def test_discount_all_and_named():
    inv = stocked()
    inv.apply_discount(10)
    assert inv.get("pen").price == 1.12 and inv.get("pad").price == 2.79
    inv.apply_discount(50, names=["pad"])
    assert inv.get("pad").price == 1.4 and inv.get("pen").price == 1.12


def test_bad_discounts_change_nothing():
    inv = stocked()
    with pytest.raises(ValueError):
        inv.apply_discount(120)
    with pytest.raises(KeyError):
        inv.apply_discount(10, names=["pen", "ink"])
    assert inv.get("pen").price == 1.25
