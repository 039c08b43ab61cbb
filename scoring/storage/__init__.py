"""Redis: the store, every key, leases, the connection (or an embedded server), bounded
retention, and the spool of scores paid for and not yet stored."""
