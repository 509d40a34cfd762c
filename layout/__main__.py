"""``python -m layout`` and the ``layout`` command: ``layout compose`` is offered to the project's warm
compose server first (``base/daemon.py``, the standard library only: before typer, WeasyPrint or
anything heavy is imported); anything else, or a compose no server took, runs ``cli.main`` here."""

import sys


def main() -> None:
    """Entry point of the ``layout`` command."""
    from .base.daemon import request, served

    argv = sys.argv[1:]
    answered = request(argv)
    if answered is not None:  # the server wrote everything to this process's own descriptors: nothing
        import os  # is left to flush or close, and the interpreter's shutdown (some 4 ms) waits for nothing

        from .base.daemon import flush_std

        flush_std()
        os._exit(answered)
    if served(argv):  # composed here, then this process becomes the project's compose server: what
        from .base.cache import hold_entries  # it reads and writes of the build cache it keeps, for

        hold_entries()  # the first recompose it serves (32 MB at most, no plate: see cache.HELD_ENTRY)
    from .cli import main as run

    run(asked=True)


if __name__ == "__main__":
    main()
