"""Agencies' LINE groups: Service Link (linking, case cards and their buttons, digests) and staff broadcasts.

Group events come here from ``bot.handlers`` (1:1 chats go to ``bot.flows``). In a group the bot answers only
its commands and its own buttons; ordinary chatter is ignored. Entry points:

* ``on_group_text`` / ``on_group_postback``: a message or a button press in a group;
* ``post_case_card(session, case)``: called once where a case is filed;
* ``run_due(services)``: digests and scheduled broadcasts, called from the sweeper.
"""

from __future__ import annotations

from bot.context import Context
from bot.groups.cards import post_case_card  # noqa: F401
from bot.groups.jobs import run_due  # noqa: F401

COMMANDS = (  # (catalogue key of the command word, handler name in bot.groups.linking); longest first
    ("grp_cmd_unlink", "unlink_command"),
    ("grp_cmd_link", "link_command"),
    ("grp_cmd_staff", "staff_command"),
    ("grp_cmd_status", "status_command"),
    ("grp_cmd_backlog", "backlog_command"),
)


def on_group_text(ctx: Context, text: str) -> None:
    from bot import messages
    from bot.groups import actions, linking

    said = " ".join(text.split())
    for key, handler in COMMANDS:
        for lang in ("th", "en"):
            word = messages.text(key, lang)
            if said.lower() == word or said.lower().startswith(word + " "):
                getattr(linking, handler)(ctx, word, said[len(word):].strip())
                return
    from bot.groups import replies

    if replies.on_text(ctx, said):  # ตอบ <ticket> … / ปิดสนทนา <ticket>: staff talking to the citizen
        return
    actions.on_note(ctx, text)  # the note after "resolved"; anything else is chatter and gets no answer


def on_group_image(ctx: Context, message_id: str) -> None:
    from bot.groups import parts

    parts.on_group_image(ctx, message_id)


def on_group_postback(ctx: Context, data: dict[str, str]) -> None:
    from bot.groups import actions

    if "grp" in data:
        actions.on_press(ctx, data)
