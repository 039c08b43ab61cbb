"""Local stand-ins for outside services: test doubles, not part of the product.

``fakes.llm`` (an OpenAI-compatible server, with the Batch API of ``fakes.batches``) and
``fakes.json_http`` (the small JSON server it and the tests' Slack and Discord fakes share).
Tests, ``bench/`` and ``papers eval`` (run from a clone) use them. This package is not in
pyproject's package list, so no wheel or image carries it, and tiktoken, which the LLM fake
counts tokens with, is a dependency of the ``eval`` and ``dev`` extras only.
"""
