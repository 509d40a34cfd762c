"""layout: turn a week's copy of the New Worker into print-ready PDF plates."""

from .base.fontconf import confine as _confine_fonts

__version__ = "0.1.0"
_confine_fonts()  # before WeasyPrint (and so Pango and fontconfig) is loaded by any module
