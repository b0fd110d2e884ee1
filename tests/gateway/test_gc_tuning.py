"""`inferaudit serve` keeps Python's cyclic garbage collector off its tail: tuned at start-up, never when embedded."""

from __future__ import annotations

import asyncio
import gc

import pytest

from inferaudit.gateway import ConfigError, Gateway, GatewayConfig
from inferaudit.gateway.app import GC_THRESHOLDS


@pytest.fixture
def restore_gc():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_gc_tuning_is_on_by_default_and_must_be_a_boolean(tmp_path):
    assert GatewayConfig.from_dict({}).gc_tuning is True
    assert GatewayConfig.from_dict({"gc_tuning": False}).gc_tuning is False
    with pytest.raises(ConfigError, match="gc_tuning must be true or false, not 'no'"):
        GatewayConfig.from_dict({"gc_tuning": "no"})


@pytest.mark.parametrize("tune", [True, False])
def test_a_serving_gateway_tunes_the_collector_and_an_embedded_one_leaves_it(tmp_path, restore_gc, tune):
    gc.unfreeze()
    before = gc.get_threshold()
    gateway = Gateway(GatewayConfig.from_dict({"ledger": str(tmp_path / "ledger.duckdb")}), tune_gc=tune)

    async def start_and_stop():
        await gateway.startup()
        seen = gc.get_threshold(), gc.get_freeze_count()
        await gateway.shutdown()
        return seen

    thresholds, frozen = asyncio.run(start_and_stop())
    if tune:
        assert thresholds == GC_THRESHOLDS and frozen > 1000  # the start-up heap: modules, config, pools
    else:
        assert thresholds == before and frozen == 0
