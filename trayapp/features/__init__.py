"""Feature modules of the tray app (listed in :mod:`trayapp.app_features`): each wires one optional
subsystem's service to its views (popup panel, tray tooltip line, notification buttons) without
growing :mod:`trayapp.app`. A feature may import services and ui, like the composition root."""
