"""``python -m layout``: the same as the ``layout`` command."""

from .cli import main

main()
