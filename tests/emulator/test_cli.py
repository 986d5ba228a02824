"""`python -m emulator` flags become settings; rates read the way LINE writes them."""

from __future__ import annotations

import pytest

from emulator.server import parse_args, settings_from_args
from emulator.settings import Rate


def test_flags_become_settings():
    settings = settings_from_args(parse_args([
        "--port", "8081", "--webhook-url", "http://127.0.0.1:8080/callback", "--channel-secret", "S",
        "--access-token", "T", "--spec", "spec.yml", "--latency-ms", "20", "--fail-500", "0.2", "--fail-429", "0.1",
        "--seed", "3", "--rate", "push=100/s", "--rate", "broadcast=60/hour", "--quota", "1000", "--redelivery"]))
    assert (settings.webhook_url, settings.channel_secret, settings.access_token) == (
        "http://127.0.0.1:8080/callback", "S", "T")
    assert settings.faults.fail_500 == 0.2 and settings.faults.seed == 3 and settings.redelivery
    assert settings.rate_for("push") == Rate(100, 1.0) and settings.rate_for("broadcast") == Rate(60, 3600.0)
    assert settings.rate_for("multicast") == Rate(200, 1.0) and settings.monthly_quota == 1000


@pytest.mark.parametrize("text, rate", [("100/s", Rate(100, 1)), ("1000/min", Rate(1000, 60)), ("7", Rate(7, 1))])
def test_rates_parse(text, rate):
    assert Rate.parse(text) == rate


def test_a_bad_rate_is_refused():
    with pytest.raises(ValueError):
        Rate.parse("fast")
