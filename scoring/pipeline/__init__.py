"""A day's run: its lifecycle, the pre-filters, single-flight claims, the rating stage with
its corroboration, the spool of answers paid for and not yet stored, and the local scorer."""
