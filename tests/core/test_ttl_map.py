"""The kernel's small expiring maps (host → tenant, plugin states, API key checks)."""

import pytest

from guidepath.core.cache.ttl_map import TtlMap


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_exactly_ttl_seconds():
    clock = Clock()
    cache = TtlMap(ttl=2.0, clock=clock)
    cache.put("a", 1)
    clock.now += 1.99
    assert cache.get("a") == 1
    clock.now += 0.01
    assert cache.get("a") is None and len(cache) == 0


def test_get_or_load_loads_once_while_fresh_and_remembers_none():
    clock = Clock()
    cache = TtlMap(ttl=5.0, clock=clock)
    loads = []

    def load():
        loads.append(1)
        return None  # "no such key" is an answer worth remembering too

    assert cache.get_or_load("k", load) is None
    assert cache.get_or_load("k", load) is None
    assert len(loads) == 1
    clock.now += 5
    cache.get_or_load("k", load)
    assert len(loads) == 2


def test_the_least_recently_used_entry_goes_first_when_full():
    cache = TtlMap(ttl=60.0, max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_discard_where_forgets_one_tenants_entries():
    cache = TtlMap(ttl=60.0)
    cache.put(("t1", "x"), 1)
    cache.put(("t1", "y"), 2)
    cache.put(("t2", "x"), 3)
    cache.discard_where(lambda key: key[0] == "t1")
    assert (cache.get(("t1", "x")), cache.get(("t1", "y")), cache.get(("t2", "x"))) == (None, None, 3)


def test_ttl_zero_caches_nothing():
    cache = TtlMap(ttl=0)
    cache.put("a", 1)
    assert cache.get("a") is None


@pytest.mark.parametrize("kwargs", [{"ttl": -1}, {"ttl": 1, "max_entries": 0}])
def test_nonsense_limits_are_refused(kwargs):
    with pytest.raises(ValueError):
        TtlMap(**kwargs)
