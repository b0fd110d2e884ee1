"""A least-recently-used cache."""

from collections import OrderedDict


class LRUCache:
    """A mapping of at most ``capacity`` items that evicts the least recently used one."""

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items = OrderedDict()

    def get(self, key, default=None):
        return self._items.get(key, default)

    def put(self, key, value):
        self._items[key] = value
        if len(self._items) > self.capacity:
            self._items.popitem(last=True)

    def __len__(self):
        return len(self._items)

    def __contains__(self, key):
        return key in self._items
