"""The ``parindex`` command (and ``python -m parindex``).

The command's modules take a tenth of a second and more to load; a stop meanwhile (Ctrl-C, or
SIGTERM and SIGHUP) is the stop's one line and exit 130 too, not Python's traceback from inside
an import: the signals are taken over before anything else is imported.
"""

from __future__ import annotations


def main() -> None:
    from .proc import stop_at_once

    stop_at_once()
    from .cli import main as command

    command()


if __name__ == "__main__":
    main()
