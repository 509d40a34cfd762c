"""layout: turn a week's copy of the New Worker into print-ready PDF plates."""

__version__ = "0.1.0"
