"""A citizen's news preferences: a set of topics and a set of provinces (either may be "all").

Stored as the (topic, province) pairs of their cross product, the shape the audience query filters on.
Each change returns a catalogue key for the short confirmation the citizen gets.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.announcements.topics import ALL, TOPICS
from storage import announcements as repo


@dataclass
class Preferences:
    topics: set[str]
    provinces: set[str]

    @property
    def active(self) -> bool:
        return bool(self.topics)


def load(session: Session, citizen_id: int) -> Preferences:
    pairs = repo.subscriptions_of(session, citizen_id)
    return Preferences({t for t, _ in pairs}, {p for _, p in pairs})


def save(session: Session, citizen_id: int, prefs: Preferences) -> None:
    provinces = prefs.provinces or {ALL}
    repo.set_subscriptions(session, citizen_id, {(t, p) for t in prefs.topics for p in provinces})


def add_topic(prefs: Preferences, topic: str) -> str:
    if topic == ALL:
        if prefs.topics == {ALL}:
            return "sub_already"
        prefs.topics = {ALL}
        return "sub_added_all_topics"
    if topic in prefs.topics or ALL in prefs.topics:
        return "sub_already"
    prefs.topics.add(topic)
    return "sub_added_topic"


def remove_topic(prefs: Preferences, topic: str) -> str:
    if ALL in prefs.topics:  # "all but this one"
        prefs.topics = set(TOPICS) - {topic}
        return "sub_removed_topic"
    if topic not in prefs.topics:
        return "sub_not_subscribed"
    prefs.topics.discard(topic)
    return "sub_removed_topic"


def add_province(prefs: Preferences, province: str) -> str:
    if not prefs.topics:
        prefs.topics = {ALL}  # "รับข่าว เชียงใหม่": everything about Chiang Mai
    if province == ALL:
        if prefs.provinces == {ALL}:
            return "sub_already"
        prefs.provinces = {ALL}
        return "sub_all_provinces"
    if province in prefs.provinces:
        return "sub_already"
    prefs.provinces = (prefs.provinces - {ALL}) | {province}
    return "sub_added_province"


def remove_province(prefs: Preferences, province: str) -> str:
    if province not in prefs.provinces:
        return "sub_not_subscribed"
    prefs.provinces.discard(province)
    if not prefs.provinces:
        prefs.provinces = {ALL}
        return "sub_all_provinces"
    return "sub_removed_province"


def had_subscriptions(session: Session, citizen_id: int) -> bool:
    """Someone who subscribed once (and unfollowed since): following again, we ask again."""
    from sqlalchemy import select

    from storage.models import Subscription

    return session.scalar(select(Subscription.id).where(Subscription.citizen_id == citizen_id).limit(1)) is not None
