"""A stored day in words: platform-neutral wording, Slack blocks, Discord embeds, the Markdown
digest. Pure functions."""
