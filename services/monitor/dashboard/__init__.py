"""The operator dashboard served by monitor, kept live over the ``/ws/monitor`` WebSocket."""

from services.monitor.dashboard.router import router
from services.monitor.dashboard.runtime import Dashboard, start_dashboard

__all__ = ["Dashboard", "router", "start_dashboard"]
