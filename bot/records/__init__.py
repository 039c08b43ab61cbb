"""The bot's own records in Redis beside the scoring store: the post ledger, reactions, the
day lock."""
