"""argparse classes for the command line that start faster than the stock ones.

argparse builds a ``HelpFormatter`` on every ``add_argument`` (to check the metavar), and the stock
formatter imports ``shutil`` (with bz2, lzma and zlib: about 3 ms) just to call
``shutil.get_terminal_size``. :class:`Formatter` computes the same width with ``os`` alone, and
:class:`Parser` makes it the default for itself and for every subparser it creates (argparse
builds subparsers with the parent's class). Help output is unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def terminal_columns(fallback: int = 80) -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS`` if a positive integer, else the width of
    the terminal on ``sys.__stdout__``, else ``fallback``."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or fallback


class Formatter(argparse.HelpFormatter):
    """``argparse.HelpFormatter`` with the terminal width found without importing shutil."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        if width is None:
            width = terminal_columns() - 2  # as HelpFormatter does
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` defaulting to :class:`Formatter` (subparsers inherit the class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
