"""``python -m layout`` and the ``layout`` command: ``layout compose`` is offered to the project's warm
compose server first (``base/daemon.py``, the standard library only: before typer, WeasyPrint or
anything heavy is imported); anything else, or a compose no server took, runs ``cli.main`` here."""

import sys


def main() -> None:
    """Entry point of the ``layout`` command."""
    from .base.daemon import request

    served = request(sys.argv[1:])
    if served is not None:
        sys.exit(served)
    from .cli import main as run

    run(asked=True)


if __name__ == "__main__":
    main()
