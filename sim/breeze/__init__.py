"""A local Breeze (ICICI Direct) REST simulator that the real ``breeze-connect`` SDK can drive.

See ``docs``: breeze.md section 7. Start it with ``python -m sim.breeze --port 18050`` or build
the ASGI app with :func:`sim.breeze.app.create_app`.
"""

from sim.breeze.app import create_app
from sim.breeze.settings import SimSettings

__all__ = ["SimSettings", "create_app"]
