"""How one attempt reads LINE's answer (``bot.delivery.attempt.classify``) and how long a retry waits
(``backoff``): the rules of line-platform.md §8, one by one, on the SDK's own exception."""

from __future__ import annotations

import json

import pytest
from linebot.v3.messaging import ApiException

from bot.delivery.attempt import MONTHLY_LIMIT, backoff, classify


def refusal(status: int | None, body: str = "", **headers: str) -> ApiException:
    error = ApiException(status=status, reason="refused")
    error.body, error.headers = body, headers
    return error


def no_quota() -> dict:
    raise AssertionError("the quota is read for a 429 only")


def test_409_means_an_earlier_attempt_was_accepted():
    outcome = classify(refusal(409, x_line_accepted_request_id="req-1"), "push", 2, no_quota)
    assert (outcome.state, outcome.via) == ("sent", "push")
    assert classify(refusal(409), "reply", 2, no_quota).via == "push"  # a reply retried as a push


def test_a_429_for_rate_is_retried_and_the_monthly_limit_pauses():
    rate = classify(refusal(429, json.dumps({"message": "The API rate limit has been exceeded."})), "push", 1,
                    lambda: {"type": "limited", "value": 500, "total_usage": 20, "exhausted": False})
    assert rate.state == "retry" and rate.error == "429 rate limit" and rate.delay >= 1.0
    monthly = classify(refusal(429, json.dumps({"message": "You have reached your monthly limit."})), "push", 1,
                       lambda: {"exhausted": True})
    assert monthly.state == MONTHLY_LIMIT and json.loads(monthly.details)["quota"] == {"exhausted": True}
    # LINE's message may change: an exhausted quota alone also means the monthly limit.
    assert classify(refusal(429, "{}"), "push", 1, lambda: {"exhausted": True}).state == MONTHLY_LIMIT


@pytest.mark.parametrize("status", [500, 502, None])
def test_server_errors_and_lost_connections_are_retried(status):
    outcome = classify(refusal(status, "upstream"), "push", 3, no_quota)
    assert outcome.state == "retry" and outcome.counts and 0.5 <= outcome.delay <= 4.0


def test_our_token_refused_is_retried_until_fixed_and_other_4xx_are_permanent():
    assert classify(refusal(401, '{"message":"Authentication failed"}'), "push", 1, no_quota).state == "retry"
    body = json.dumps({"message": "The request body has 1 error(s)",
                       "details": [{"message": "Length must be between 0 and 5000", "property": "messages[0].text"}]})
    failed = classify(refusal(400, body), "push", 1, no_quota)
    assert failed.state == "failed" and failed.status == 400 and failed.details == body
    assert failed.error == "400 The request body has 1 error(s)"


def test_backoff_grows_with_full_jitter_up_to_its_cap():
    for attempt in range(1, 25):
        delays = [backoff(attempt) for _ in range(200)]
        assert all(0.5 <= delay <= min(300.0, 0.5 * 2 ** attempt) for delay in delays)
    late = [backoff(20) for _ in range(200)]
    assert max(late) > 150 and min(late) < 150  # spread over the whole range, so workers do not retry in step


def test_the_retry_cap_setting_bounds_every_wait_lines_refusals_ask_for():
    for refused in (refusal(500), refusal(429, "{}"), refusal(401)):
        delays = [classify(refused, "push", 15, lambda: {"exhausted": False}, cap=4.0).delay for _ in range(100)]
        assert max(delays) <= 5.0 and max(delays) > 1.0  # 401's base (5 s) is the least a retry waits
