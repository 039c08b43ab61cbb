"""Posting a stored day: one thread per platform, never twice and never lost; the personal
direct messages; the Markdown files and the static archive."""
