"""Claude Watch: a tray app for Claude Pro/Max limits, token usage and alerts."""

__version__ = "0.1.0"
APP_NAME = "Claude Watch"
APP_ID = "claude-watch"
