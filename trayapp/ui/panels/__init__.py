"""Sections that parts of the app add to the popup dashboard (``Popup.add_panel``)."""
