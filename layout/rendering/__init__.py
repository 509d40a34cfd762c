"""The WeasyPrint engine (its C declarations compiled once) and the worker processes that run it."""
