"""Test-wide settings.

Hypothesis: no per-example deadline (a first call may compile a numba kernel, and CI shares two
cores). Under CI (``CI`` set) Hypothesis' own ``ci`` profile is kept (derandomised, no database)
with the deadline lifted; elsewhere a ``dev`` profile. ``HYPOTHESIS_PROFILE`` overrides.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", settings.get_profile("ci"), deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
