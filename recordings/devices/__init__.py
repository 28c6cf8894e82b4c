"""Readers of accelerometer device files: Axivity ``.cwa``, GENEActiv ``.bin``, ActiGraph
``.gt3x`` and EDF/EDF+/BDF with three accelerometer channels.

Each reader is recognised by content, not by the file's name, and returns a
:class:`~recordings.samples.SampleStream`: ``t`` in seconds from the first sample, acceleration in
g, chunks of bounded size, ``stream.gaps`` for spans the file shows to be damaged or missing
(complete once the stream is read), and ``info.meta`` with device, serial, firmware, range, clock
and the tallies of what was dropped. Bad input gives one :class:`~hypnic.recordings.errors.InputError`.

:data:`READERS` lists ``(name, sniff, open)``: ``sniff(head, path) -> bool`` looks at the first
bytes (at least 256; :data:`HEAD_BYTES` is plenty) and must not raise; ``open(path, *,
start=None) -> SampleStream``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypnic.recordings.devices import actigraph, axivity, edf_input, geneactiv
from hypnic.recordings.samples import SampleStream

#: Bytes of a file's start that every sniffer here decides on.
HEAD_BYTES = 4096

READERS: list[tuple[str, Callable[[bytes, Path], bool], Callable[..., SampleStream]]] = [
    ("cwa", axivity.sniff, axivity.open_cwa),
    ("geneactiv", geneactiv.sniff, geneactiv.open_bin),
    ("gt3x", actigraph.sniff, actigraph.open_gt3x),
    ("edf", edf_input.sniff, edf_input.open_edf),
]


def sniff_device(head: bytes, path: Path) -> str | None:
    """Name of the device reader that takes a file starting with ``head``, or None."""
    for name, sniff, _ in READERS:
        if sniff(head, path):
            return name
    return None
