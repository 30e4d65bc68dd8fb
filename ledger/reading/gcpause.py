"""Workspace-wide reads build hundreds of thousands of small objects and few cycles."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused():
    """Pause the cyclic collector: it re-scanned every new object over and over for nothing
    (a fifth of a large audit's time, a tenth of a large dashboard's)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
