"""Where numbers come from: usage API, Claude Code credentials, statusline captures, transcripts."""
