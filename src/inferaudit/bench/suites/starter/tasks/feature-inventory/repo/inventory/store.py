"""An inventory of items by name."""


class Inventory:
    def __init__(self):
        self._items = {}

    def add(self, item):
        if item.name in self._items:
            raise ValueError(f"{item.name!r} is already in the inventory")
        self._items[item.name] = item

    def get(self, name):
        return self._items[name]

    def remove(self, name):
        return self._items.pop(name)

    def count(self):
        return sum(item.quantity for item in self._items.values())
