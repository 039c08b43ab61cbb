"""The one error root of paperbot.

PaperbotError                 anything paperbot reports to a person as one clear line
├── ConfigError               an invalid setting or config file (bot.settings raises it)
├── InputError                bad input from a person: command arguments, criteria text
│   └── NotFound              an unknown paper id, profile, date or criteria version
├── StoreUnavailable          Redis cannot be reached or started
├── FeedError                 the arXiv feed or export API
│   ├── FeedUnavailable       the request failed after retries
│   ├── FeedMalformed         the answer is not a feed we can trust; nothing is stored
│   └── FeedNotReady          the feed still shows an earlier day (arXiv has not refreshed)
└── ScoringError              a scorer could not produce scores

Front ends catch PaperbotError in one place and print ``str(error)``; anything else is a bug
and keeps its traceback.
"""


class PaperbotError(Exception):
    """Root of every error paperbot explains to a person."""


class ConfigError(PaperbotError):
    pass


class InputError(PaperbotError):
    pass


class NotFound(InputError):
    pass


class StoreUnavailable(PaperbotError):
    pass


class FeedError(PaperbotError):
    pass


class FeedUnavailable(FeedError):
    pass


class FeedMalformed(FeedError):
    pass


class FeedNotReady(FeedError):
    pass


class ScoringError(PaperbotError):
    pass
