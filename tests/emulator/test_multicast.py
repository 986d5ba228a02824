"""Multicast at scale: one record per request still answers for every recipient, and the cheaper validation
still refuses what LINE would refuse (a bad user id, a bad message, even right after a good one)."""

from __future__ import annotations

import uuid

import requests

from emulator.validation import load_spec_validator

TEXT = {"type": "text", "text": "ประกาศ: ราคาข้าว"}


def multicast(emulator, auth: dict[str, str], to: list, messages: list[dict] | None = None,
              key: str | None = None) -> requests.Response:
    headers = {**auth, "X-Line-Retry-Key": key or str(uuid.uuid4())}
    return requests.post(f"{emulator.base_url}/v2/bot/message/multicast", json={"to": to, "messages": messages or [TEXT]},
                         headers=headers, timeout=10)


def test_every_recipient_is_recorded_once_per_request_with_its_own_ids(emulator, client, auth):
    friends = [client.create_user()["user_id"] for _ in range(3)]
    strangers = [f"U{n:032x}" for n in range(496)]  # 500 ids with the repeated one
    key = str(uuid.uuid4())
    assert multicast(emulator, auth, friends + strangers + friends[:1], [TEXT, TEXT], key).status_code == 200
    assert multicast(emulator, auth, friends, key=key).status_code == 409  # a retry is not delivered twice

    mine = client.messages_for(friends[1])
    assert [m["message"] for m in mine] == [TEXT, TEXT] and all(m["retry_key"] == key for m in mine)
    assert mine[0]["message_id"] != mine[1]["message_id"] and mine[0]["quote_token"]
    assert client.messages_for(strangers[5]) == []
    assert [m["delivered"] for m in client.messages_for(strangers[5], include_undelivered=True)] == [False, False]
    everything = client.messages(include_undelivered=True)
    assert len(everything["messages"]) == 2 * 499  # the repeated friend once
    assert len({m["message_id"] for m in everything["messages"]}) == 998
    later = client.messages(since=everything["messages"][-3]["seq"], include_undelivered=True)["messages"]
    assert [m["seq"] for m in later] == [m["seq"] for m in everything["messages"][-2:]]
    assert client.recipient_counts() == {uid: 1 for uid in friends + strangers}
    assert client.recipient_counts(text="something else") == {}
    assert len(client.accepted_times("multicast")) == 1
    assert client.quota_usage()["used"] == 3  # friends only
    assert [i["message"] for i in client.timeline(friends[0])["items"]] == [TEXT, TEXT]


def test_bad_user_ids_are_refused_by_position(emulator, client, auth):
    good = [f"U{n:032x}" for n in range(5)]
    for bad, position in [(good[:2] + [42] + good[2:], 2), (good + ["U" + "A" * 32], 5),
                          (good[:1] + ["U" + "a" * 32 + "\nU" + "b" * 32], 1), (["C" + "0" * 32] + good, 0)]:
        response = multicast(emulator, auth, bad)
        assert response.status_code == 400, bad
        assert f"to[{position}]" in [d["property"] for d in response.json()["details"]]
    assert client.recipient_counts() == {}


def test_a_bad_message_is_refused_even_after_the_same_shape_passed(emulator, client, auth):
    users = [f"U{n:032x}" for n in range(500)]
    assert multicast(emulator, auth, users).status_code == 200
    for bad in [{"type": "text"}, {"type": "text", "text": 5}, {"type": "txet", "text": "x"},
                {**TEXT, "quickReply": {"items": [{"type": "action", "action": {"type": "teleport"}}]}}]:
        response = multicast(emulator, auth, users, [TEXT, bad])
        assert response.status_code == 400, bad
        assert any(d["property"].startswith("messages[1]") for d in response.json()["details"]), response.json()
    assert multicast(emulator, auth, users).status_code == 200
    assert len(client.spec_violations()) == 4
    assert len(client.accepted_times("multicast")) == 2


def test_the_one_pass_checks_give_the_generic_validators_answers(spec_path):
    validator = load_spec_validator(str(spec_path))
    operation = validator.find("POST", "/v2/bot/message/multicast")
    users = [f"U{n:032x}" for n in range(500)]
    assert validator.validate(operation, {"to": users, "messages": [TEXT]}) == []
    assert validator.validate(operation, {"to": users, "messages": [TEXT]}) == []  # remembered, same answer
    errors = validator.validate(operation, {"to": users[:3] + [7], "messages": [TEXT, {"type": "text"}]})
    assert {e["property"] for e in errors} == {"to[3]", "messages[1].text"}
    unit = validator.validate(operation, {"to": users, "messages": [TEXT], "customAggregationUnits": ["bad unit!"]})
    assert [e["property"] for e in unit] == ["customAggregationUnits[0]"]
