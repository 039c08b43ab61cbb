"""Everything that talks to people and platforms: CLI, command core, renderers, wiring."""
