"""Publish / subscribe by event name."""


class EventBus:
    def __init__(self):
        self._handlers = {}

    def subscribe(self, name, handler):
        self._handlers.setdefault(name, []).append(handler)

    def publish(self, name, payload=None):
        for handler in self._handlers.get(name, []):
            handler(payload)
