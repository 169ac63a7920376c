"""Start-up's objects are kept out of the collector's full passes (the webhook's stalls)."""

from __future__ import annotations

import gc

from bot.app import keep_start_up_out_of_collections


def test_what_start_up_built_is_frozen_out_of_the_collectors_passes() -> None:
    try:
        keep_start_up_out_of_collections()
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # later garbage is still collected
    finally:
        gc.unfreeze()
