"""Which software wrote a file: named here, on the I/O floor, so that readers and writers can say
so without importing anything above them. pyproject.toml reads the version from here."""

from __future__ import annotations

SOFTWARE = "hypnic"
VERSION = "0.1.0"
