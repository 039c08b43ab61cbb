"""Prompt templates and default criteria, shipped as files and read with importlib.resources."""

from importlib.resources import files


def read_prompt(name: str) -> str:
    """Return the text of a file in this package, e.g. ``read_prompt("criteria.md")``."""
    return (files(__name__) / name).read_text(encoding="utf-8")
