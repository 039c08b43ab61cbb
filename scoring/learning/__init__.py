"""Learning from reactions: the preference model, a person's own view, their interests in a
sentence, criteria suggestions."""
