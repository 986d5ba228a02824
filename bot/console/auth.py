"""Signing in and out: passwords (Argon2), an optional TOTP step, throttling, and sessions that expire.

A session holds only the staff id, the account's session version and two times (signed in, last seen); the
account is read again on every request, so deactivating an account or changing its role takes effect at
once, and a session whose version is older than the account's (signed out, disabled, password changed) is
over even if someone kept a copy of its cookie.
"""

from __future__ import annotations

import time
from functools import wraps
from typing import Callable

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)

from bot.console import passwords
from bot.console.throttle import LoginThrottle, Refusal
from bot.services import current_services
from storage import staff as staff_store
from storage.models import StaffUser, utcnow

blueprint = Blueprint("console_auth", __name__)

REFUSALS = {
    "account": "บัญชีนี้ลงชื่อผิดหลายครั้งเกินไป ระงับชั่วคราว 15 นาที บัญชีอื่นยังใช้ได้ตามปกติ "
               "(too many attempts on this account: it is locked for 15 minutes; other accounts still work)",
    "address": "มีการลงชื่อผิดจากเครือข่ายนี้มากเกินไป กรุณารอ 15 นาที "
               "(too many failed attempts from this network: wait 15 minutes)",
}


# --- the signed-in user -----------------------------------------------------------------------------------

# Sent by the console's own background requests (static/conversation.js): they do not keep a session alive,
# so an unattended tab still signs out after CONSOLE_IDLE_SECONDS.
BACKGROUND_HEADER = "X-Siang-Background"


@blueprint.before_app_request
def load_staff() -> None:
    g.staff = None
    if not request.path.startswith("/console") or "staff_id" not in session:
        return
    now = time.time()
    idle = current_app.config["CONSOLE_IDLE_SECONDS"]
    longest = current_app.config["CONSOLE_SESSION_MAX_SECONDS"]
    if now - session.get("seen_at", 0) > idle or now - session.get("login_at", 0) > longest:
        session.clear()
        g.session_expired = True
        return
    with current_services().transaction() as db:
        user = db.get(StaffUser, session["staff_id"])
    if user is None or not user.active or session.get("version") != user.session_version:
        session.clear()
        return
    if request.headers.get(BACKGROUND_HEADER) != "1":  # a page polling by itself is not the officer at work
        session["seen_at"] = now
    g.staff = user


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("staff") is None:
            if g.get("session_expired"):
                flash("หมดเวลาการใช้งาน กรุณาเข้าสู่ระบบอีกครั้ง (session expired)")
            return redirect(url_for("console_auth.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)
    return wrapped


def role_required(*roles: str) -> Callable:
    """Only these roles; anyone else signed in gets 403 (and is never shown the page)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.staff.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def actor() -> str:
    return f"staff:{g.staff.id}" if g.get("staff") else "anonymous"


def audit(db, action: str, target: str | None = None, **details) -> None:
    """Record the signed-in user's action in the audit log, in the caller's transaction."""
    staff_store.audit(db, actor(), action, target, details or None, address=request.remote_addr)


# --- signing in -------------------------------------------------------------------------------------------

def _refused(db, username: str, why: Refusal):
    staff_store.record_login_attempt(db, username, request.remote_addr, False)
    staff_store.audit(db, f"login:{username[:64]}", "login_throttled", address=request.remote_addr,
                      details={"limit": why})
    return render_template("console/login.html", error=REFUSALS[why], next=_form_next()), 429


def _form_next() -> str:
    return _safe_next(request.form.get("next") or request.args.get("next"), fallback="")


def _start_session(user: StaffUser) -> None:
    session.clear()
    session.permanent = True
    session["staff_id"] = user.id
    session["version"] = user.session_version
    session["login_at"] = session["seen_at"] = time.time()


def _safe_next(target: str | None, fallback: str | None = None) -> str:
    """Only a path of the console: never another host (``//evil``, ``/console\\..``), never a header split."""
    if (target and target.startswith("/console") and not target.startswith("//")
            and not any(ch in target for ch in "\\\r\n\t") and target.isprintable()):
        return target
    return url_for("console_cases.home") if fallback is None else fallback


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("console/login.html", next=_safe_next(request.args.get("next"), fallback=""))
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    throttle = LoginThrottle(current_services())
    why = throttle.attempt(username, request.remote_addr)
    with current_services().transaction() as db:
        if why:
            return _refused(db, username, why)
        user = staff_store.staff_by_username(db, username) if len(username) <= 64 else None
        ok = passwords.verify_password(user.password_hash if user else None, password)
        ok = ok and user is not None and user.active
        if ok and user.totp_secret:
            session.clear()
            session["pending_staff_id"] = user.id
            session["pending_at"] = time.time()
            return redirect(url_for("console_auth.login_totp", next=_form_next()))
        staff_store.record_login_attempt(db, username, request.remote_addr, ok)
        if ok:
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords._hasher.hash(password)
            user.last_login_at = utcnow()
            staff_store.audit(db, f"staff:{user.id}", "login", address=request.remote_addr)
            _start_session(user)
        else:
            staff_store.audit(db, f"login:{username[:64]}", "login_failed", address=request.remote_addr)
    if ok:
        throttle.succeeded(username, request.remote_addr)
        return redirect(_safe_next(request.form.get("next")))
    return render_template("console/login.html", next=_form_next(),
                           error="ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง (wrong user name or password)"), 401


@blueprint.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    """The second step. Its codes count against the same account limit as passwords (a right password
    does not reset it), and a code is accepted once: its time step is kept per account."""
    pending = session.get("pending_staff_id")
    if pending is None or time.time() - session.get("pending_at", 0) > 300:
        session.clear()
        return redirect(url_for("console_auth.login"))
    if request.method == "GET":
        return render_template("console/totp.html", next=_safe_next(request.args.get("next"), fallback=""))
    services = current_services()
    with services.transaction() as db:
        user = db.get(StaffUser, pending)
    if user is None or not user.active:
        session.clear()
        return redirect(url_for("console_auth.login"))
    throttle = LoginThrottle(services)
    why = throttle.attempt(user.username, request.remote_addr)
    with services.transaction() as db:
        if why:
            session.clear()
            return _refused(db, user.username, why)
        step = passwords.totp_step(user.totp_secret or "", request.form.get("code", ""))
        ok = step is not None and staff_store.accept_totp_step(db, user.id, step)
        staff_store.record_login_attempt(db, user.username, request.remote_addr, ok)
        staff_store.audit(db, f"staff:{user.id}", "login" if ok else "login_totp_failed",
                          address=request.remote_addr, details=None if ok or step is None else {"code": "reused"})
        if ok:
            user = db.get(StaffUser, user.id)
            user.last_login_at = utcnow()
            _start_session(user)
    if ok:
        throttle.succeeded(user.username, request.remote_addr, attempts=2)  # the password and this code
        return redirect(_safe_next(request.form.get("next")))
    return render_template("console/totp.html", error="รหัสไม่ถูกต้องหรือใช้ไปแล้ว (wrong or already used code)",
                           next=_form_next()), 401


@blueprint.post("/logout")
def logout():
    """Signing out ends the account's sessions everywhere, so a copied cookie is worth nothing after it."""
    if g.get("staff") is not None:
        with current_services().transaction() as db:
            staff_store.end_sessions(db, g.staff.id)
            audit(db, "logout")
    session.clear()
    return redirect(url_for("console_auth.login"))


@blueprint.route("/account/totp", methods=["GET", "POST"])
@login_required
def setup_totp():
    """Turn on the second factor: the secret is shown once, and kept only after a correct code."""
    if request.method == "GET":
        secret = passwords.new_totp_secret()
        session["totp_candidate"] = secret
        return render_template("console/totp_setup.html", secret=secret,
                               uri=passwords.totp_uri(secret, g.staff.username))
    secret = session.get("totp_candidate")
    if not secret or not passwords.verify_totp(secret, request.form.get("code", "")):
        flash("รหัสไม่ถูกต้อง ลองอีกครั้ง (wrong code)")
        return redirect(url_for("console_auth.setup_totp"))
    with current_services().transaction() as db:
        user = db.get(StaffUser, g.staff.id)
        user.totp_secret = secret
        user.totp_last_step = None
        audit(db, "totp_enabled", f"staff:{user.id}")
    session.pop("totp_candidate", None)
    flash("เปิดใช้รหัสยืนยันสองชั้นแล้ว (two-factor sign-in is on)")
    return redirect(url_for("console_cases.home"))
