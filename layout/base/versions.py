"""The versions of what shapes the output, read without importing it (``layout --help`` and the
commands that never lay a page out do not pay for loading WeasyPrint)."""

from __future__ import annotations

from importlib.metadata import version

WEASYPRINT_VERSION = version("weasyprint")
PINNED_WEASYPRINT = "70.0"
"""The composer reads WeasyPrint's (private) layout tree: any other version is refused."""
VARIANTS = {"x-1a": ("pdf/x-1a", "PDF/X-1a:2003"), "x-4": ("pdf/x-4", "PDF/X-4")}
"""The plates' PDF/X (``pdfx:`` in paper.yaml): the ``pdf_variant`` WeasyPrint is asked for, and the
``GTS_PDFXVersion`` the plates declare."""


def check_version() -> None:
    """Refuse to run with another WeasyPrint: the composer reads its (private) layout tree. Checked from
    the installed distribution's metadata, so that a recompose whose pages are all cached never imports
    WeasyPrint (``rendering/workers.py`` imports it before the workers fork, when they lay pages out)."""
    if WEASYPRINT_VERSION != PINNED_WEASYPRINT:
        from ..errors import Problem, RenderError

        raise RenderError(
            f"WeasyPrint {WEASYPRINT_VERSION} is installed, layout needs {PINNED_WEASYPRINT}",
            (Problem("pyproject.toml", "dependencies", "the composer reads WeasyPrint's layout tree, "
                     "which changes between versions", f"pip install weasyprint=={PINNED_WEASYPRINT}"),))
