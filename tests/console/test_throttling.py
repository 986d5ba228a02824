"""Sign-in throttling per account and per address, counted atomically on SQLite, PostgreSQL and Redis; TOTP
codes are good once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from sqlalchemy import update

from bot import create_app, stop_background
from bot.console import throttle
from storage.models import StaffUser
from tests.conftest import make_settings
from tests.console.conftest import csrf_of, login, make_staff, seed, token

WRONG = "not the password"


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def counted(request, database_url, emulator_server):
    """The console with its counters in the database (embedded) or in Redis (production)."""
    extra = {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    app = create_app(make_settings(database_url, emulator_server.base_url, **extra))
    seed(app.extensions["siang"])
    yield app
    stop_background(app)


def _staff(app, *names: str, **kwargs) -> None:
    for name in names:
        make_staff(app.extensions["siang"], name, "administrator", **kwargs)


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_locked_account_is_told_so_and_other_accounts_behind_the_same_proxy_still_sign_in(counted):
    _staff(counted, "somchai", "wichai")
    office = _from(counted, "10.0.0.1")
    for _ in range(throttle.MAX_PER_ACCOUNT):
        assert login(office, "somchai", WRONG).status_code == 401
    locked = login(office, "somchai")
    assert locked.status_code == 429 and "บัญชีนี้" in locked.get_data(as_text=True)
    assert "other accounts still work" in locked.get_data(as_text=True)
    colleague = _from(counted, "10.0.0.1")
    assert login(colleague, "wichai").status_code == 302
    assert colleague.get("/console/cases").status_code == 200
    assert login(_from(counted, "10.0.0.1"), "somchai").status_code == 429  # still locked after that


def test_signing_in_to_another_account_does_not_reset_an_address_spraying_guesses(counted, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_PER_ADDRESS", 6)
    _staff(counted, "mine")
    attacker = _from(counted, "203.0.113.9")
    for n in range(5):
        assert login(attacker, f"victim{n}", WRONG).status_code == 401
    assert login(attacker, "mine").status_code == 302  # the attacker's own account
    assert login(attacker, "victim5", WRONG).status_code == 401
    refused = login(attacker, "victim6", WRONG)
    assert refused.status_code == 429 and "network" in refused.get_data(as_text=True)
    assert login(_from(counted, "198.51.100.7"), "victim6", WRONG).status_code == 401  # elsewhere: not locked


def test_an_office_signing_in_all_day_never_reaches_its_address_limit(counted, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_PER_ADDRESS", 3)
    secret = pyotp.random_base32()
    _staff(counted, "plain")
    _staff(counted, "twofactor", totp_secret=secret)
    for n in range(4):
        office = _from(counted, "10.5.5.5")
        assert login(office, "plain").status_code == 302
        login(office, "twofactor")
        code = pyotp.TOTP(secret).now()
        with counted.extensions["siang"].transaction() as db:  # as if a new 30-second step had begun
            db.execute(update(StaffUser).where(StaffUser.username == "twofactor").values(totp_last_step=None))
        assert office.post("/console/login/totp", data={"code": code, "csrf_token": token(
            office, "/console/login/totp")}).status_code == 302, n
    assert login(_from(counted, "10.5.5.5"), "nobody", WRONG).status_code == 401


def test_parallel_guesses_at_one_account_get_exactly_the_allowed_number_of_tries(counted):
    _staff(counted, "target")
    clients = [_from(counted, f"192.0.2.{n}") for n in range(12)]
    tokens = [csrf_of(c.get("/console/login").get_data(as_text=True)) for c in clients]

    def guess(n: int) -> int:
        return clients[n].post("/console/login", data={"username": "target", "password": WRONG,
                                                       "csrf_token": tokens[n]}).status_code

    with ThreadPoolExecutor(12) as pool:
        codes = sorted(pool.map(guess, range(12)))
    assert codes.count(401) == throttle.MAX_PER_ACCOUNT and codes.count(429) == 12 - throttle.MAX_PER_ACCOUNT


def test_a_right_password_does_not_reset_the_count_of_wrong_totp_codes(counted):
    secret = pyotp.random_base32()
    _staff(counted, "exec", totp_secret=secret)
    client = _from(counted, "10.1.1.1")
    wrong_codes = 0
    while login(client, "exec").status_code == 302 and wrong_codes < 10:
        client.post("/console/login/totp", data={"code": "000000", "csrf_token": token(client, "/console/login/totp")})
        wrong_codes += 1
    assert wrong_codes < throttle.MAX_PER_ACCOUNT  # password and code attempts share the account's count
    assert login(_from(counted, "10.1.1.2"), "exec").status_code == 429


def test_a_totp_code_cannot_be_used_twice(counted):
    secret = pyotp.random_base32()
    _staff(counted, "exec", totp_secret=secret)
    code = pyotp.TOTP(secret).now()
    first = _from(counted, "10.2.2.2")
    login(first, "exec")
    assert first.post("/console/login/totp", data={"code": code,
                                                   "csrf_token": token(first, "/console/login/totp")}).status_code == 302
    second = _from(counted, "10.3.3.3")  # someone who saw the code over a shoulder
    login(second, "exec")
    replay = second.post("/console/login/totp", data={"code": code,
                                                      "csrf_token": token(second, "/console/login/totp")})
    assert replay.status_code == 401 and "ใช้ไปแล้ว" in replay.get_data(as_text=True)
    assert second.get("/console/cases").status_code == 302


def test_counters_live_in_redis_in_production(database_url, emulator_server, redis_url):
    from redis import Redis

    app = create_app(make_settings(database_url, emulator_server.base_url, redis_url=redis_url))
    seed(app.extensions["siang"])
    login(_from(app, "10.9.9.9"), "nobody", WRONG)
    keys = {k.decode() for k in Redis.from_url(redis_url).keys("*:login:*")}
    assert any(k.endswith("account:nobody") for k in keys) and any(k.endswith("address:10.9.9.9") for k in keys)
    stop_background(app)


test_counters_live_in_redis_in_production = pytest.mark.redis(test_counters_live_in_redis_in_production)


def test_behind_a_trusted_proxy_addresses_are_the_clients_not_the_proxys(database_url, emulator_server, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_PER_ADDRESS", 2)
    app = create_app(make_settings(database_url, emulator_server.base_url, trusted_proxies=1))
    seed(app.extensions["siang"])
    proxy = _from(app, "10.0.0.254")
    for n in range(2):
        proxy.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
        assert login(proxy, f"guess{n}", WRONG).status_code == 401
    proxy.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    assert login(proxy, "guess9", WRONG).status_code == 429  # that client is over its limit
    proxy.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.2"
    assert login(proxy, "guess9", WRONG).status_code == 401  # another client behind the same proxy is not
    stop_background(app)
