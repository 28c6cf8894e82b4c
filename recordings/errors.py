"""The one error type that reaches the user as a one-line message and exit status 2."""

from __future__ import annotations

import os
import re

#: Control characters (C0, DEL, C1): a newline would break the one-line promise, an escape sequence
#: would reach the terminal raw.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character written as a Python escape (``\\n``, ``\\x1b``),
    so that a file name or a header field cannot break a line or drive the terminal."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class InputError(Exception):
    """Bad input from the user: a file that cannot be read, a wrong option value.

    The CLI prints ``hypnic: error: <source>: <problem>`` on one line and exits with status 2.

    Parameters
    ----------
    source : str or os.PathLike or None
        The file (or option) the problem is in; ``None`` when the problem has no single source.
    problem : str
        What is wrong, in plain words, without a trailing period.
    """

    def __init__(self, source: str | os.PathLike[str] | None, problem: str) -> None:
        self.source = None if source is None else os.fspath(source)
        self.problem = " ".join(str(problem).split())  # no line breaks in what it says
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the message as the CLI prints it (without the ``hypnic: error:`` prefix): one
        line whatever the file's name or the text it quotes holds (:func:`printable`)."""
        problem = printable(self.problem)
        return problem if self.source is None else f"{printable(self.source)}: {problem}"
