"""Thin front ends over the command core and the jobs: the ``papers`` CLI, Slack, Discord, and
``papers serve``, which runs them together."""
