"""Entry point of the Pulumi program (``Pulumi.yaml`` points ``main`` at ``infra/``)."""

import sys
from pathlib import Path

# Pulumi runs this folder as the program; the package lives one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.config import load
from infra.program import build

build(load())
