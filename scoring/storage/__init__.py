"""Redis: the store, every key, leases, the connection (or an embedded server), and bounded
retention."""
