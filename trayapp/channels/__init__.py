"""Where alerts go: desktop, Telegram, Slack, sound; and the quip writer."""
