"""The console workspace: a local chat in the terminal, a real adapter over the same core as Slack and Discord."""
