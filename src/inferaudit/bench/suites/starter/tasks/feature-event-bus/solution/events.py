"""Publish / subscribe by event name."""


class EventBus:
    def __init__(self):
        self._handlers = {}

    def subscribe(self, name, handler):
        self._handlers.setdefault(name, []).append(handler)
        return lambda: self.unsubscribe(name, handler)

    def unsubscribe(self, name, handler):
        handlers = self._handlers.get(name, [])
        if handler not in handlers:
            raise ValueError(f"handler is not subscribed to {name!r}")
        handlers.remove(handler)

    def publish(self, name, payload=None):
        handlers = list(self._handlers.get(name, []))
        for handler in handlers:
            handler(payload)
        return len(handlers)
