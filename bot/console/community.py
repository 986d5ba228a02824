"""Pages over what the conversation flows collect: hand-over requests ("talk to a person"), opinions by topic
with their most frequent words, and volunteers (filterable, exportable as CSV).

Hand-overs are scoped like cases: agency staff see, take, answer and close only the requests attached to a
case they may work (their agency, their provinces); a general request with no case is the administrators'
(the central centre's) to route.
"""

from __future__ import annotations

import io
from collections import Counter

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bot import messages as catalogue
from bot.casework import threads
from bot.console import access, conversation
from bot.console.auth import actor, audit, role_required
from bot.console.exports import SafeCsvWriter
from bot.jobs import deliver_after_commit
from bot.media import stored_content_response
from bot.services import current_services
from storage import outbox
from storage.models import (
    Case, Citizen, HandoverMessage, HandoverRequest, Opinion, OpinionTopic, StaffUser, Volunteer, utcnow,
)

blueprint = Blueprint("console_community", __name__)
# Thai particles and fillers that say nothing about an opinion's subject.
STOPWORDS = frozenset("ที่ และ ของ ใน ให้ ไม่ มี เป็น การ ได้ จะ ก็ ว่า มา ไป กับ แต่ ครับ ค่ะ คะ นะ จ้า อยาก ควร "
                      "มาก แล้ว ยัง อยู่ นี้ นั้น เรา ผม ฉัน หนู คน ๆ ด้วย หรือ เพราะ ถ้า ต้อง".split())


@blueprint.get("/handovers")
@role_required("administrator", "agency_staff")
def handovers():
    status = request.args.get("status", "open")
    with current_services().transaction() as db:
        query = _visible_handovers(g.staff).order_by(HandoverRequest.created_at.desc()).limit(200)
        if status in ("open", "taken", "closed"):
            query = query.where(HandoverRequest.status == status)
        rows = list(db.scalars(query))
    return render_template("console/handovers.html", rows=rows, status=status)


@blueprint.post("/handovers/<int:request_id>")
@role_required("administrator", "agency_staff")
def handover_act(request_id: int):
    with current_services().transaction() as db:
        row = db.scalar(_visible_handovers(g.staff).where(HandoverRequest.id == request_id)) or abort(404)
        what = request.form.get("action")
        back = url_for("console_community.handover_page", request_id=row.id) if request.form.get("from") == "page" \
            else url_for("console_community.handovers")
        if what == "take":
            row.status, row.taken_by = "taken", actor()
        elif what == "close":
            row.status, row.closed_at = "closed", utcnow()
            threads.close_by_staff(db, actor(), handover=row)
        elif what == "reply":
            text = request.form.get("text", "").strip()[:4500]
            citizen = db.get(Citizen, row.citizen_id) if row.citizen_id else None
            if not text or citizen is None or not citizen.active:
                flash("ส่งข้อความไม่ได้ (cannot reach the citizen)", "error")
                return redirect(back)
            lang = catalogue.language_of(citizen.language)
            said = catalogue.text("thread_staff_reply", lang, text=text,
                                  subject=catalogue.text("thread_subject_handover", lang, number=row.id))
            message = outbox.add_message(db, kind="push", recipient=citizen.line_user_id,
                                         messages=[catalogue.text_message(said[:4900])])
            deliver_after_commit(db, message.id)
            threads.staff_wrote_on_handover(db, row, actor(), text)  # the citizen's answers come back here
            row.status, row.taken_by = "taken", row.taken_by or actor()
        else:
            abort(400)
        audit(db, f"handover_{what}", f"handover:{row.id}")
    flash("บันทึกแล้ว (saved)", "ok")
    return redirect(back)


@blueprint.get("/handovers/<int:request_id>")
@role_required("administrator", "agency_staff")
def handover_page(request_id: int):
    """One hand-over with its conversation, live: the citizen's answers appear while the page is open."""
    with current_services().transaction() as db:
        row = db.scalar(_visible_handovers(g.staff).where(HandoverRequest.id == request_id)) or abort(404)
        chat = conversation.handover_items(db, row)
        thread_open = _conversation_open(db, row)
        db.expunge(row)
    return render_template("console/handover.html", row=row, conversation=chat, thread_open=thread_open,
                           conversation_url=url_for("console_community.handover_conversation", request_id=request_id),
                           close_url=None)


@blueprint.get("/handovers/<int:request_id>/conversation")
@role_required("administrator", "agency_staff")
def handover_conversation(request_id: int):
    with current_services().transaction() as db:
        row = db.scalar(_visible_handovers(g.staff).where(HandoverRequest.id == request_id)) or abort(404)
        items = conversation.handover_items(db, row)
        open_now = _conversation_open(db, row)
    response = jsonify({"open": open_now, "items": items})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/handovers/<int:request_id>/photos/<int:content_id>")
@role_required("administrator", "agency_staff")
def handover_photo(request_id: int, content_id: int):
    with current_services().transaction() as db:
        row = db.scalar(_visible_handovers(g.staff).where(HandoverRequest.id == request_id)) or abort(404)
        sent = db.scalar(select(HandoverMessage.id).where(HandoverMessage.handover_id == row.id,
                                                          HandoverMessage.content_id == content_id))
        return stored_content_response(db, content_id if sent else None, "private, max-age=3600")


def _conversation_open(db, row: HandoverRequest) -> bool:
    """A hand-over's conversation is open while its thread is, or, before the thread's first message, while
    the request the citizen asked for is not closed."""
    return threads.is_open(db, current_services().settings.thread_idle_seconds, handover_id=row.id) \
        or (row.status != "closed" and row.reason == "asked")


def _visible_handovers(user: StaffUser):
    """The hand-over requests ``user`` may see and act on (another agency's is a 404, as for cases)."""
    query = select(HandoverRequest)
    if user.role == "administrator":
        return query
    return query.join(Case, Case.id == HandoverRequest.case_id).where(access.case_condition(user))


def frequent_words(texts: list[str], top: int = 15) -> list[tuple[str, int]]:
    from bot.nlp import normalize, tokenize

    counts: Counter[str] = Counter()
    for text in texts:
        for word in tokenize(normalize(text)):
            word = word.strip().lower()
            if len(word) > 1 and word not in STOPWORDS and not word.isdigit():
                counts[word] += 1
    return counts.most_common(top)


@blueprint.get("/opinions")
@role_required("administrator", "executive", "announcer")
def opinions():
    with current_services().transaction() as db:
        stats = db.execute(select(OpinionTopic, func.count(Opinion.id), func.avg(Opinion.rating))
                           .outerjoin(Opinion, Opinion.topic_id == OpinionTopic.id)
                           .group_by(OpinionTopic.id).order_by(OpinionTopic.id.desc())).all()
        topic_id = request.args.get("topic", type=int)
        words, sample = [], []
        if topic_id:
            texts = list(db.scalars(select(Opinion.text).where(Opinion.topic_id == topic_id)
                                    .order_by(Opinion.id.desc()).limit(5000)))
            words, sample = frequent_words(texts), texts[:20]
    from bot.nlp import mask_pii

    return render_template("console/opinions.html", stats=stats, topic_id=topic_id, words=words,
                           sample=[mask_pii(t) for t in sample])


def _volunteer_query(args):
    query = select(Volunteer).order_by(Volunteer.created_at.desc())
    if args.get("province"):
        query = query.where(Volunteer.province == args["province"])
    if args.get("skill"):
        query = query.where(Volunteer.skills.contains(args["skill"]))
    if args.get("availability"):
        query = query.where(Volunteer.availability == args["availability"])
    return query


@blueprint.get("/volunteers")
@role_required("administrator")
def volunteers():
    with current_services().transaction() as db:
        rows = list(db.scalars(_volunteer_query(request.args).limit(500)))
    return render_template("console/volunteers.html", rows=rows, args=request.args)


@blueprint.get("/volunteers.csv")
@role_required("administrator")
def volunteers_csv():
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(["name", "phone", "province", "skills", "availability", "registered_at"])
    with current_services().transaction() as db:
        for v in db.scalars(_volunteer_query(request.args)):
            writer.writerow([v.name, v.phone, v.province, v.skills, v.availability, v.created_at.isoformat()])
        audit(db, "export_volunteers", None, filters=request.args.to_dict())
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=siang-volunteers.csv"})
