"""What every part of the bot runs on: settings, the app factory (Redis, store, HTTP client,
scorer), platform names, ports, quotas, logging, metrics and supervision."""
