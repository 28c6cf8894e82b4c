"""Optional dependencies: the core install analyses files and writes the report; live sensors
(``ble``) and cohorts (``cohort``) need more, and a command that needs them says which."""

from __future__ import annotations

import importlib.util

from hypnic.recordings.errors import InputError

#: extra -> the modules it brings.
EXTRAS = {"ble": ("bleak",), "cohort": ("distributed",)}


def require(extra: str, command: str) -> None:
    """Raise a one-line :class:`InputError` when ``extra``'s modules are not installed.

    Raises
    ------
    InputError
        Naming the command, the extra and how to install it.
    """
    missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            None,
            f"hypnic {command} needs the optional '{extra}' dependencies ({', '.join(missing)}): "
            f"pip install 'hypnic[{extra}]'",
        )
