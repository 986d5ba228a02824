"""Outbound webhooks: case events POSTed as signed JSON to the URLs agencies and integrators registered.

Each event becomes one outbox row per registration that wants it, in the transaction of the change itself,
so it is sent exactly when the change commits and never for a change rolled back. Rows are delivered by
``bot.delivery`` like messages to LINE (claim with a lease, in order per registration, backoff with jitter,
``MAX_ATTEMPTS``), and every attempt carries the same ``X-Siang-Retry-Key``: a receiver that answered 2xx
but whose answer was lost sees the same key again and drops the repeat. The body is signed with the
registration's secret: ``X-Siang-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

Changes an integrator made through the agency API with its own key are not sent back to its registrations
(it knows; echoing would loop two systems that mirror each other).

What is sent is the agency API's case view (personal data masked, place to district level).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import uuid
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from bot.jobs import deliver_after_commit
from storage import integrations as store
from storage.models import Case, OutboxMessage, WebhookRegistration, utcnow

EVENTS = ("case.created", "case.status_changed", "case.rated", "case.commented")
SIGNATURE_HEADER = "X-Siang-Signature"
RETRY_KEY_HEADER = "X-Siang-Retry-Key"
EVENT_HEADER = "X-Siang-Event"
DELIVERY_HEADER = "X-Siang-Delivery"
ORIGIN_KEY = "siang_api_key_id"  # session.info: the agency API key whose request makes this change
RETRYABLE = frozenset({408, 425, 429})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_url(url: str, allow_private: bool) -> str:
    """The URL as registered, or ValueError: http(s), a host, and (unless allowed) not a loopback, private or
    link-local address, so an API key cannot make Siang call into the network it runs in."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be http:// or https:// with a host")
    if len(url) > 1000:
        raise ValueError("the URL is longer than 1000 characters")
    if not allow_private and _private(parts.hostname):
        raise ValueError("the URL points at a private or loopback address")
    return url


def _private(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # unknown now; checked again before each delivery
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return True
    return False


def parse_events(values) -> list[str]:
    """Event names asked for (a list, or comma-separated text); empty: all of them."""
    if isinstance(values, str):
        values = [v for v in values.replace(" ", ",").split(",") if v]
    chosen = [v for v in (values or []) if v]
    unknown = [v for v in chosen if v not in EVENTS]
    if unknown:
        raise ValueError(f"unknown events {', '.join(unknown)} (known: {', '.join(EVENTS)})")
    return [e for e in EVENTS if e in chosen] or list(EVENTS)


def emit(session: Session, case: Case, event: str, data: dict | None = None,
         also_agency: str | None = None) -> list[OutboxMessage]:
    """Queue ``event`` on ``case`` to every registration that wants it (those of the case's agency, of
    ``also_agency`` and of all cases), except the originating integrator's."""
    from bot.api.agency import case_json

    origin = session.info.get(ORIGIN_KEY)
    found = {r.id: r for agency in dict.fromkeys([case.agency_id, also_agency]) if agency or agency == case.agency_id
             for r in store.registrations_for_event(session, agency, event)}
    targets = [r for r in found.values() if origin is None or r.api_key_id != origin]
    if not targets:
        return []
    session.flush()
    body = {"id": str(uuid.uuid4()), "event": event, "occurred_at": _w3c_now(), "case": case_json(case),
            **(data or {})}
    rows = []
    for registration in targets:
        row = store.add_delivery(session, registration.id, {**body, "registration_id": registration.id}, case.id)
        deliver_after_commit(session, row.id)
        rows.append(row)
    return rows


def _w3c_now() -> str:
    from bot.api.public import w3c

    return w3c(utcnow())


def send(services, row) -> "object":
    """One attempt at the registration's URL for an outbox row of kind ``webhook``; never raises.

    2xx: delivered. 408, 425, 429, 5xx, timeouts and refused connections: retried with backoff. Other
    answers (a 404, a 410, a redirect): failed for good, with the status and the start of the body kept for the
    delivery log."""
    import requests

    from bot.delivery import Outcome, backoff

    registration_id = store.registration_of(row)
    with services.transaction() as session:
        registration = session.get(WebhookRegistration, registration_id) if registration_id else None
        if registration is None or not registration.active:
            return Outcome("failed", error="the registration was removed")
        url, secret = registration.url, registration.secret
    try:
        check_url(url, services.settings.webhook_allow_private)
    except ValueError as error:
        return Outcome("failed", error=str(error))
    body = row.messages.encode()
    try:
        event = json.loads(row.messages).get("event", "")
    except ValueError:
        event = ""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Siang-Webhooks/1",
               SIGNATURE_HEADER: sign(secret, body), RETRY_KEY_HEADER: row.retry_key, EVENT_HEADER: event,
               DELIVERY_HEADER: str(row.id)}
    try:
        response = requests.post(url, data=body, headers=headers, allow_redirects=False,
                                 timeout=services.settings.webhook_timeout_seconds)
    except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, DNS: all retryable
        return Outcome("retry", error=type(exc).__name__, delay=backoff(row.attempts, cap=services.settings.retry_cap_seconds))
    status = response.status_code
    if 200 <= status < 300:
        return Outcome("sent", via="webhook", request_id=str(status))
    detail = response.text[:2000] if response.text else None
    if status >= 500 or status in RETRYABLE:
        return Outcome("retry", error=f"{status} {(detail or '')[:200]}".strip(), delay=backoff(row.attempts, cap=services.settings.retry_cap_seconds))
    return Outcome("failed", error=f"{status} {(detail or '')[:200]}".strip(), status=status, details=detail)
