"""A press of a button under a paper's reply (bot/render/buttons.py), from Slack or Discord,
as the command core's ``feedback`` request: the message pressed must be a paper's reply that
paperbot posted (the post ledger says which paper of which profile), and the button that
paper's. The platform verified who pressed (Slack's request signature, Discord's gateway);
the core records the verdict once per person and paper and says what it changed for them."""

from __future__ import annotations

from bot.commands.core import person
from bot.commands.request import Request
from bot.records.ledger import Ledger
from bot.render.buttons import pressed
from bot.runtime.platforms import Platform
from scoring.domain.errors import InputError

NOT_OURS = "this button is not on a paper of a digest thread"


async def press_request(
    ledger: Ledger, channel: str, message: str, button: str, user: str, admin: bool
) -> Request:
    """The ``feedback`` request a press means; InputError when it is not one of our papers'
    buttons (``user``: the platform's own id of who pressed)."""
    found = pressed(button)
    posted = await ledger.message(channel, message) if found and channel and message else None
    if found is None or posted is None or posted.paper != found[1]:
        raise InputError(NOT_OURS)
    platform = Platform(ledger.platform)
    return Request(
        command="feedback",
        args=[posted.paper, found[0]],
        profile=posted.profile,
        channel=channel,
        user=person(platform, user),
        platform=platform,
        admin=admin,
    )
