"""hypnic: what the body did while falling asleep, from a wrist or ankle accelerometer.

The flow reads from the folder names, each a subpackage of this one: ``firmware_bridge`` (bytes)
-> ``recordings`` (samples) -> ``detector`` (events, summary) -> the use cases here (detect,
replay, record, export, batch) -> ``commands`` (the command line) and ``report``.
"""

from hypnic.recordings.provenance import VERSION as __version__

__all__ = ["__version__"]
