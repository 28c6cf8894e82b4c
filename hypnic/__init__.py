"""hypnic: what the body did while falling asleep, from a wrist or ankle accelerometer.

The package is the command line and the wiring between the stages, which live in their own
top-level packages so the flow reads from the folder names:
``firmware_bridge`` (bytes) -> ``recordings`` (samples) -> ``detector`` (events, summary) -> report.
"""

__version__ = "0.1.0"
