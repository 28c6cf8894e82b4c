"""The one error type every codec raises on bytes it cannot decode."""

from __future__ import annotations


class CodecError(ValueError):
    """Bytes from (or for) a sensor that do not follow its protocol.

    Decoders raise this for truncated, malformed or out-of-range input instead of
    ``IndexError``/``struct.error``, and never return samples from such input. The message is
    one line, ``"<protocol>: <problem>"``, so a caller can wrap it in
    :class:`hypnic.recordings.errors.InputError` (naming the device or file) unchanged.

    Parameters
    ----------
    protocol : str
        Codec name, e.g. ``"polar_pmd"``.
    problem : str
        What is wrong, in plain words, without a trailing period.
    """

    def __init__(self, protocol: str, problem: str) -> None:
        self.protocol = protocol
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{protocol}: {self.problem}")
