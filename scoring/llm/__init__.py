"""The LLM rater: prompts, calls to any OpenAI-compatible server (live, flex or the Batch API),
the account's shared rate limit, and reading its answers."""
