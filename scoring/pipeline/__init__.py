"""A day's run: its lifecycle, the pre-filters, single-flight claims, the rating stage with
its corroboration, and the local scorer."""
