"""What every part of scoring shares: the data models, the one error root, the plain settings,
criteria, the scorer port, prices, ranking's pure functions, the injection screen, progress
and stop signals. Imports nothing else of paperbot but ``prompts``."""
