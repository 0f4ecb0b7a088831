"""Long-lived services on the GUI thread: poller, alert policy runner, scanner service."""
