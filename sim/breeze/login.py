"""The daily browser login (breeze.md 1.2, 1.5), close enough to ICICI's pages for auto-login tests.

``GET /apiuser/login?api_key=`` serves the credentials form (``#txtuid``, ``#txtPass``, the terms
checkbox ``#chkssTnc``, ``#btnSubmit``). Posting the right user id and password shows the OTP panel
``#pnlOTP`` with six single-digit boxes and ``#Button1``. The code is checked with pyotp against the
wall clock (the client's authenticator knows nothing of the simulated clock), the current 30 s step
plus or minus one. Success redirects (303) to the app's redirect URL with ``?apisession=`` and a
freshly issued API_Session, which ``customerdetails`` then accepts. Wrong values show a message in
``#lblError`` and no redirect; an unknown api_key gets an error page.

``POST /_sim/login/page`` renames elements (``{"missing": ["Button1"]}``) so tests can play a page
whose selectors changed. Plain HTML with a few lines of inline script; nothing is loaded from
elsewhere.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote_plus

import pyotp
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sim.breeze.state import SimState

router = APIRouter()
OTP_DIGITS = 6
TICKET_TTL_S = 300.0
OTP_ATTEMPTS = 3
BAD_CREDENTIALS = "Invalid User ID or Password."
BAD_OTP = "Invalid OTP. Please try again."
OTP_LOCKED = "Too many invalid OTP attempts. Please login again."
NO_TERMS = "Please accept the Terms and Conditions."
BAD_KEY = "Invalid API Key. Please check the AppKey of your app."
SESSION_GONE = "Your login has expired. Please login again."


@dataclass
class Ticket:
    """A login between the password and the OTP."""

    api_key: str
    created: float
    attempts: int = 0


@dataclass
class LoginDesk:
    """Pending logins and the element ids tests have renamed."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    logins: int = 0

    def el(self, name: str) -> str:
        """The id an element is rendered with: renamed when a test made it 'missing'."""
        return f"{name}_v2" if name in self.missing else name

    def open_ticket(self, api_key: str) -> str:
        """A new ticket; stale ones are dropped."""
        now = time.monotonic()
        for key in [k for k, t in self.tickets.items() if now - t.created > TICKET_TTL_S]:
            del self.tickets[key]
        value = secrets.token_urlsafe(16)
        self.tickets[value] = Ticket(api_key, now)
        return value


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _desk(request: Request) -> LoginDesk:
    desk: LoginDesk | None = getattr(request.app.state, "sim_login", None)
    if desk is None:
        desk = LoginDesk()
        request.app.state.sim_login = desk
    return desk


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


STYLE = """
body { font-family: sans-serif; background: #f3f5f8; margin: 0; }
main { max-width: 380px; margin: 60px auto; background: #fff; padding: 24px; border-radius: 6px; }
label { display: block; margin: 12px 0 4px; }
input[type=text], input[type=password] { width: 100%; padding: 6px; box-sizing: border-box; }
.otp input { width: 36px; text-align: center; font-size: 20px; margin-right: 4px; }
#lblError { color: #b00020; margin: 12px 0; }
button { margin-top: 16px; padding: 8px 20px; }
"""

OTP_SCRIPT = """
document.querySelectorAll('.otp input').forEach(function (box, i, all) {
  box.addEventListener('input', function () {
    box.value = box.value.replace(/[^0-9]/g, '').slice(0, 1);
    if (box.value && i + 1 < all.length) { all[i + 1].focus(); }
  });
});
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>ICICI Direct API login (simulator)</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _error(message: str | None) -> str:
    return f"<div id='lblError' role='alert'>{escape(message)}</div>" if message else ""


def _credentials_page(desk: LoginDesk, api_key: str, user_id: str, error: str | None) -> Response:
    action = f"/apiuser/login?api_key={quote_plus(api_key)}"
    body = (
        f"<form method='post' action='{escape(action)}' id='form1'>"
        f"{_error(error)}"
        f"<label for='{desk.el('txtuid')}'>User ID</label>"
        f"<input type='text' id='{desk.el('txtuid')}' name='txtuid' value='{escape(user_id)}'"
        " autocomplete='username'>"
        f"<label for='{desk.el('txtPass')}'>Password</label>"
        f"<input type='password' id='{desk.el('txtPass')}' name='txtPass'"
        " autocomplete='current-password'>"
        f"<label><input type='checkbox' id='{desk.el('chkssTnc')}' name='chkssTnc' value='on'>"
        " I accept the Terms and Conditions</label>"
        f"<button type='submit' id='{desk.el('btnSubmit')}'>Login</button>"
        "</form>"
    )
    return _page("Login", body)


def _otp_page(desk: LoginDesk, ticket: str, error: str | None) -> Response:
    boxes = "".join(
        f"<input type='text' name='otp{i}' maxlength='1' inputmode='numeric'"
        f" autocomplete='one-time-code' aria-label='OTP digit {i}'>"
        for i in range(1, OTP_DIGITS + 1)
    )
    body = (
        "<form method='post' action='/apiuser/login/otp' id='form1'>"
        f"{_error(error)}"
        f"<div id='{desk.el('pnlOTP')}'>"
        "<p>Enter the OTP from your authenticator app.</p>"
        f"<div class='otp'>{boxes}</div>"
        f"<input type='hidden' name='ticket' value='{escape(ticket)}'>"
        f"<button type='submit' id='{desk.el('Button1')}'>Submit</button>"
        "</div></form>"
        f"<script>{OTP_SCRIPT}</script>"
    )
    return _page("OTP", body)


def _key_known(state: SimState, api_key: str) -> bool:
    return hmac.compare_digest(api_key.encode(), state.settings.app_key.encode())


@router.get("/apiuser/login", include_in_schema=False)
async def login_page(request: Request, api_key: str = "") -> Response:
    """The credentials form, or an error page for an unknown api_key."""
    if not _key_known(_state(request), api_key):
        return _page("Error", _error(BAD_KEY), status=400)
    return _credentials_page(_desk(request), api_key, "", None)


@router.post("/apiuser/login", include_in_schema=False)
async def submit_credentials(request: Request, api_key: str = "") -> Response:
    """Check user id, password and the terms; show the OTP panel when they are right."""
    state, desk = _state(request), _desk(request)
    if not _key_known(state, api_key):
        return _page("Error", _error(BAD_KEY), status=400)
    form = await _form(request)
    user_id = form.get("txtuid", "").strip()
    if form.get("chkssTnc") != "on":
        return _credentials_page(desk, api_key, user_id, NO_TERMS)
    right_user = hmac.compare_digest(user_id.upper(), state.settings.login_user_id.upper())
    right_password = hmac.compare_digest(
        form.get("txtPass", "").encode(), state.settings.login_password.encode()
    )
    if not (right_user and right_password):
        return _credentials_page(desk, api_key, user_id, BAD_CREDENTIALS)
    return _otp_page(desk, desk.open_ticket(api_key), None)


@router.post("/apiuser/login/otp", include_in_schema=False)
async def submit_otp(request: Request) -> Response:
    """Check the TOTP code (current step, one step either side); redirect with an API_Session."""
    state, desk = _state(request), _desk(request)
    form = await _form(request)
    ticket_id = form.get("ticket", "")
    ticket = desk.tickets.get(ticket_id)
    if ticket is None or time.monotonic() - ticket.created > TICKET_TTL_S:
        desk.tickets.pop(ticket_id, None)
        return _page("Error", _error(SESSION_GONE), status=400)
    code = "".join(form.get(f"otp{i}", "").strip() for i in range(1, OTP_DIGITS + 1))
    totp = pyotp.TOTP(state.settings.login_totp_secret)
    if len(code) != OTP_DIGITS or not code.isdigit() or not totp.verify(code, valid_window=1):
        ticket.attempts += 1
        if ticket.attempts >= OTP_ATTEMPTS:
            del desk.tickets[ticket_id]
            return _page("Error", _error(OTP_LOCKED), status=400)
        return _otp_page(desk, ticket_id, BAD_OTP)
    del desk.tickets[ticket_id]
    session = state.sessions.issue()
    desk.logins += 1
    target = state.settings.login_redirect_url
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}apisession={session.api_session}", status_code=303)


@router.post("/_sim/login/page", include_in_schema=False)
async def change_page(request: Request) -> dict[str, Any]:
    """Rename elements of the login pages (``missing``: ids), as if ICICI changed them."""
    body = await request.json() if await request.body() else {}
    if not isinstance(body, dict) or not isinstance(body.get("missing", []), list):
        raise HTTPException(422, "expected {'missing': [element ids]}")
    desk = _desk(request)
    desk.missing = {str(name) for name in body.get("missing", [])}
    return {"missing": sorted(desk.missing)}


@router.get("/_sim/login/stats", include_in_schema=False)
async def login_stats(request: Request) -> dict[str, Any]:
    """Successful logins so far and logins waiting for their OTP."""
    desk = _desk(request)
    return {"logins": desk.logins, "pending": len(desk.tickets)}
