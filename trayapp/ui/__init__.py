"""Qt widgets: tray, icon painter, popup dashboard, timeline, settings dialog."""
