"""Danger to life is answered first: before consent, before any question, whatever flow or menu is open.

The router (``bot.flows.on_text``) asks ``answer`` about every text a citizen sends. When the text says a
life is in danger now, the first message of the reply names the numbers to call for that kind of danger
(from the urgency rules) in Thai and English, because a first-time citizen's language is not known yet and
an emergency is no time to guess. The complaint may then go on: the router starts it (or marks the open one)
as urgent, so the case reaches its owner flagged.

Reading a message for danger before consent is lawful processing in the vital interest of a person (PDPA
s. 24(2)); nothing is stored by this step itself.
"""

from __future__ import annotations

from bot import messages
from bot.context import Context
from bot.flows import understanding

LANGUAGES = ("th", "en")


def answer(ctx: Context, text: str) -> understanding.Urgency | None:
    """Reply with the emergency numbers when ``text`` signals danger to life now; the urgency, or None."""
    found = understanding.urgency_of(text)
    if not found.urgent:
        return None
    ctx.reply(messages.text_message(emergency_text(found, ctx.lang)))
    return found


def emergency_text(found: understanding.Urgency, lang: str = "th") -> str:
    """The citizen's language first, then the other one, each with what to do and every number named."""
    order = (lang, *(other for other in LANGUAGES if other != lang))
    return "\n\n".join(_in(found, language) for language in order)


def _in(found: understanding.Urgency, lang: str) -> str:
    lines = [messages.text("emergency_heading", lang)]
    lines += [messages.text("emergency_number", lang, number=number,
                            who=messages.text(f"hotline_{number}", lang)) for number in found.hotlines]
    lines.append(messages.text(f"emergency_{found.reason}", lang))
    lines.append(messages.text("emergency_continue", lang))
    return "\n".join(lines)
