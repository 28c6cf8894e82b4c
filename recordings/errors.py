"""The one error type that reaches the user as a one-line message and exit status 2."""

from __future__ import annotations

import os


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
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the message as the CLI prints it (without the ``hypnic: error:`` prefix)."""
        return self.problem if self.source is None else f"{self.source}: {self.problem}"
