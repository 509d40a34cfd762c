"""What long-lived imports leave on the heap: made with the collector off, then frozen (``gc.freeze``),
so that later collections do not walk it again and again for nothing (it lives as long as the process)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def frozen_after() -> Iterator[None]:
    """Run the body (imports) with the collector off, then freeze what exists, and turn the collector
    back on if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
