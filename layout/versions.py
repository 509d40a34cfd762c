"""The versions of what shapes the output, read without importing it (``layout --help`` and the
commands that never lay a page out do not pay for loading WeasyPrint)."""

from __future__ import annotations

from importlib.metadata import version

WEASYPRINT_VERSION = version("weasyprint")
PINNED_WEASYPRINT = "70.0"
"""The composer reads WeasyPrint's (private) layout tree: any other version is refused."""
