"""Where the project's shared specs and data are: ``../shared`` beside the repository.

CI clones main with ``shared/`` beside it; ``$HYPNIC_SHARED`` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("HYPNIC_SHARED", Path(__file__).resolve().parents[2] / "shared"))
VECTORS = SHARED / "vectors"
DEVICES = SHARED / "data" / "devices"
