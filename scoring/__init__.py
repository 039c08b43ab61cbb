"""Turns a day's arXiv batch into ranked, scored papers. Never imports platform code."""
