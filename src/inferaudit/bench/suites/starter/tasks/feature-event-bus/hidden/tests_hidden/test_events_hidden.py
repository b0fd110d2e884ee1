import pytest

from events import EventBus


def test_publish_counts_and_unsubscribe():
    bus, seen = EventBus(), []
    bus.subscribe("a", seen.append)
    cancel = bus.subscribe("a", lambda p: seen.append(("second", p)))
    assert bus.publish("a", 1) == 2
    cancel()
    assert bus.publish("a", 2) == 1
    assert seen == [1, ("second", 1), 2]


def test_unsubscribe_unknown():
    bus = EventBus()
    with pytest.raises(ValueError):
        bus.unsubscribe("a", print)


def test_unsubscribing_during_publish():
    bus, seen = EventBus(), []

    def once(payload):
        seen.append(("once", payload))
        bus.unsubscribe("e", once)

    bus.subscribe("e", once)
    bus.subscribe("e", lambda p: seen.append(("always", p)))
    assert bus.publish("e", 1) == 2
    assert bus.publish("e", 2) == 1
    assert seen == [("once", 1), ("always", 1), ("always", 2)]
