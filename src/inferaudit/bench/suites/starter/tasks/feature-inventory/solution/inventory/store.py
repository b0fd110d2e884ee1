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

    def total_value(self):
        return round(sum(item.price * item.quantity for item in self._items.values()), 2)

    def apply_discount(self, percent, names=None):
        if not 0 <= percent <= 100:
            raise ValueError(f"percent must be within 0..100, got {percent}")
        chosen = list(self._items) if names is None else list(names)
        missing = [name for name in chosen if name not in self._items]
        if missing:
            raise KeyError(missing[0])
        for name in chosen:
            item = self._items[name]
            item.price = round(item.price * (100 - percent) / 100, 2)
