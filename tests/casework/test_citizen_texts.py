"""Citizens never see codes: states, agencies and notes reach them in their own language, never as ids.

A case is taken through every state, the feedback-driven reopening, a forward between agencies and a
category correction; every card and text the Thai filer and an English joiner were sent (outbox rows), and
the timeline each of them can ask for, are read as a citizen reads them: only what LINE shows.
"""

from __future__ import annotations

import json

from bot.casework.lifecycle import change_status, forwarding_notes, rate
from bot.casework.states import STATES
from bot.casework import work
from bot.messages import text
from bot.messages.status_cards import status_card
from bot.messages.ticket_cards import timeline_card
from bot.nlp.routing import agencies
from storage.flows import add_supporter
from storage.models import Case, OutboxMessage
from storage.staff import agency_name
from tests import factories
from tests.support import assert_no_codes, shown

PHRA_NAKHON, BANG_RAK = "bma-district:1001", "bma-district:1004"


def take_the_case_everywhere(session) -> tuple[Case, str, str]:
    thai = factories.citizen(session, "U" + "a" * 32, language="th")
    english = factories.citizen(session, "U" + "b" * 32, language="en-US")
    case = factories.case(session, thai, description="ไฟดับทั้งซอย", category="แสงสว่าง", agency_id=PHRA_NAKHON,
                          province="กรุงเทพมหานคร", district="บางรัก")
    add_supporter(session, case.id, english.id, "ที่บ้านก็ดับค่ะ")
    case.agency_id = BANG_RAK  # a forward from a LINE group, as bot.groups.actions writes it
    note, note_en = forwarding_notes(session, PHRA_NAKHON, BANG_RAK)
    change_status(session, case, "forwarded", "group:1", note=note, note_en=note_en)
    change_status(session, case, "accepted", "staff:1")
    change_status(session, case, "in_progress", "staff:1", note="Crew dispatched")  # an officer's English
    change_status(session, case, "waiting_citizen", "staff:1", note="ขอรูปเสาไฟต้นที่ดับค่ะ")
    work.correct_category(session, case, "เบาะแสยาเสพติด", "staff:1")  # a new owner, status kept: a text
    change_status(session, case, "resolved", "staff:1", note="ซ่อมแล้วค่ะ")
    rate(session, case, None, False, f"citizen:{thai.id}")  # "not solved": reopened
    change_status(session, case, "rejected", "staff:1", reason="เป็นพื้นที่เอกชน")
    change_status(session, case, "reopened", "staff:1")
    change_status(session, case, "resolved", "staff:1", note="ซ่อมเสร็จแล้ว")
    change_status(session, case, "closed", "staff:1")
    return case, thai.line_user_id, english.line_user_id


def test_every_card_and_timeline_a_citizen_gets_names_states_agencies_and_notes_in_their_language(app):
    services = app.extensions["siang"]
    with app.app_context(), services.transaction() as session:
        case, thai, english = take_the_case_everywhere(session)
        sent = {who: [m for row in session.query(OutboxMessage).filter_by(recipient=who).order_by(OutboxMessage.id)
                      for m in json.loads(row.messages)] for who in (thai, english)}
        timelines = {lang: timeline_card(case, lang) for lang in ("th", "en")}
        every_state = {lang: [status_card(ticket=case.ticket, status=s, lang=lang, timeline_url="https://x.example/c",
                                          agency_name=agency_name(session, PHRA_NAKHON, lang)) for s in STATES]
                       for lang in ("th", "en")}

    for who, lang in ((thai, "th"), (english, "en")):
        strings = [s for m in [*sent[who], timelines[lang], *every_state[lang]] for s in shown(m)]
        assert_no_codes(strings, lang)
        everything = "\n".join(strings)
        for state in STATES.values():
            assert text(state.label_key, lang) in everything
        assert text("note_citizen_not_solved", lang) in everything
        assert text("note_forwarded_between", lang, from_agency=getattr(agencies()[PHRA_NAKHON], f"name_{lang}"),
                    to_agency=getattr(agencies()[BANG_RAK], f"name_{lang}")) in everything
    thai_said, english_said = ("\n".join(s for m in sent[who] for s in shown(m)) for who in (thai, english))
    assert "Bang Rak District Office" in english_said and "สำนักงานเขตบางรัก" in thai_said
    assert "ป.ป.ส." in thai_said and "Office of the Narcotics Control Board" in english_said  # the correction
    assert "Crew dispatched" in english_said and "Crew dispatched" not in thai_said
    assert "ซ่อมแล้วค่ะ" in english_said  # a staff note is Thai by default: the English reader gets it as written
    assert len([m for m in sent[english] if m.get("quickReply")]) == 0  # the rating is the filer's
