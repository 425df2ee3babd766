"""Sign-in, sessions, API tokens, CSRF, the role check of every request, security headers.

- Sessions: Flask-Login over Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure
  behind TLS). A session ends after ``SESSION_IDLE_MINUTES`` without a request, and at once
  when the user's password changes or the account is disabled (the session remembers the
  account's ``session_version``).
- Machine clients send ``Authorization: Bearer <token>`` (:func:`geo.accounts.create_token`);
  such requests carry no cookie and need no CSRF token.
- CSRF: Flask-WTF's token on every state-changing request that is not token-authenticated
  (forms post it as ``csrf_token``, scripts as the ``X-CSRFToken`` header).
- Roles: :data:`webmap.access.ACCESS` declares each endpoint's roles; anything undeclared is
  refused. Signed-out callers are sent to the login page (pages) or get 401 (API, tiles).
- Headers: a Content-Security-Policy with a per-response nonce for the pages' own scripts,
  frame and content-type options, no caching of anything but static files.

Length: every request's security path (sign-in, session, token, CSRF, role check, headers)
in one place, so it can be reviewed as one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from geo.accounts import (
    Account,
    LoginRefused,
    account_for_token,
    authenticate,
    get_account,
    log_event,
)
from geo.demo.accounts import DEMO_ACCOUNTS
from geo.settings import PREFIX, read_or_create_key
from webmap.access import allowed
from webmap.db import get_session

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

#: requests under these paths answer in JSON (401/403/400), not with pages
JSON_PREFIXES = ("/api/", "/tiles/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WebUser(UserMixin):
    """The signed-in account as Flask-Login sees it.

    ``via`` is ``session`` (a session cookie) or ``token:NAME`` (an API token).
    """

    def __init__(self, account: Account, via: str = "session"):
        self.account = account
        self.via = via

    def get_id(self) -> str:
        """Return the id the session cookie keeps: ``<account id>:<session version>``."""
        return f"{self.account.id}:{self.account.session_version}"

    @property
    def roles(self) -> tuple[str, ...]:
        """The account's roles."""
        return self.account.roles

    @property
    def username(self) -> str:
        """The account's user name."""
        return self.account.username


def current_account() -> Account | None:
    """Return the signed-in user's account, or None."""
    user = current_user
    return user.account if user and user.is_authenticated else None


def can(endpoint: str) -> bool:
    """Whether the signed-in user may use ``endpoint`` (for showing links)."""
    account = current_account()
    return allowed(endpoint, account.roles if account else ()) is not False


def client_address() -> str | None:
    """Return the caller's address.

    Behind a proxy, ProxyFix (set up by ``VISITMAP_TRUSTED_PROXIES``) has already put the
    client's address here.
    """
    return request.remote_addr


def wants_json() -> bool:
    """Return whether the request is answered in JSON rather than pages (:data:`JSON_PREFIXES`)."""
    return request.path.startswith(JSON_PREFIXES)


# --- settings ---------------------------------------------------------------------------------


def _int_setting(name: str, default: int) -> int:
    raw = os.environ.get(PREFIX + name, "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else default


def load_secret_key(var_dir: Path) -> str:
    """``VISITMAP_SECRET_KEY``, or a random key created once in ``var/secret_key`` (0600)."""
    key = os.environ.get(PREFIX + "SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ValueError(f"{PREFIX}SECRET_KEY must be at least 32 characters")
        return key
    return read_or_create_key(var_dir / "secret_key", "secret key").decode("ascii")


def configure(app: Flask) -> None:
    """Defaults for the auth settings (``test_config`` may have set them already)."""
    settings = app.config["VISITMAP_SETTINGS"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(settings.var_dir)
    app.config.setdefault("SESSION_IDLE_MINUTES", _int_setting("SESSION_IDLE_MINUTES", 30))
    app.config.setdefault("LOGIN_MAX_FAILURES", _int_setting("LOGIN_MAX_FAILURES", 5))
    app.config.setdefault("LOGIN_LOCK_MINUTES", _int_setting("LOGIN_LOCK_MINUTES", 10))
    app.config.setdefault("DEMO_MODE", os.environ.get(PREFIX + "DEMO", "") == "1")
    app.config.setdefault(
        "SESSION_COOKIE_SECURE", os.environ.get(PREFIX + "COOKIE_SECURE", "") == "1"
    )
    app.config.setdefault("SESSION_COOKIE_NAME", "visitmap_session")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    # checked by the guard below (so that token requests can skip it), not by Flask-WTF itself
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # a form's token lives as long as the session (the idle timeout ends both)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)


# --- loaders ----------------------------------------------------------------------------------


def _session_ids(user_id) -> tuple[int, int] | None:
    """Return the account id and session version a session names; None if malformed.

    ``user_id`` is Flask-Login's id of the session (:meth:`WebUser.get_id`).
    """
    try:
        db_id, version = (int(part) for part in str(user_id).split(":"))
    except ValueError:
        return None
    return db_id, version


@login_manager.user_loader
def _load_session_user(user_id: str):
    ids = _session_ids(user_id)
    if ids is None:
        return None
    db_id, version = ids
    account = get_account(get_session(), user_id=db_id)
    if account is None or account.disabled or account.session_version != version:
        return None
    return WebUser(account)


@login_manager.request_loader
def _load_token_user(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    db = get_session()
    found = account_for_token(db, header.removeprefix("Bearer ").strip())
    if found is None:
        g.bad_token = True
        return None
    account, name, wrote = found
    if wrote:
        db.commit()  # last_used_at
    return WebUser(account, via=f"token:{name}")


# --- the guard --------------------------------------------------------------------------------


def _json_error(status: int, error: str, message: str, **extra):
    response = jsonify(error=error, message=message, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="visitmap"'
    return response


def _idle_timeout() -> bool:
    """End a cookie session idle for longer than the setting; True if it ended now."""
    if "_user_id" not in session:
        return False
    now = int(time.time())
    seen = session.get("seen")
    limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if isinstance(seen, int) and now - seen > limit:
        ids = _session_ids(session.get("_user_id"))
        account = get_account(get_session(), user_id=ids[0]) if ids else None
        _log_event(account.username if account else "-", "timeout", account)
        logout_user()
        session.clear()
        return True
    # rewritten at most once a minute: every rewrite sends a new cookie, and a response to a
    # request that was under way before another one changed the session would undo it
    if not isinstance(seen, int) or now - seen >= 60:
        session["seen"] = now
    return False


def _log_event(username: str, event: str, account: Account | None) -> None:
    db = get_session()
    log_event(
        db, username, event, user_id=account.id if account else None, address=client_address()
    )
    db.commit()


def _nul_parameter() -> str | None:
    """Return the first place of the request that holds a NUL character, or None.

    PostgreSQL text cannot hold one. The place is ``path``, a query parameter's name, a JSON
    body's field (``body`` for the body as a whole) or a form field.
    """
    if "\x00" in request.path:
        return "path"
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "")
    if request.method in SAFE_METHODS or not request.content_length:
        return None
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if data is None:
            return "body" if b"\x00" in request.get_data(cache=True) else None
        return _nul_in(data, "body")
    for key, value in request.form.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "")
    return None


def _nul_in(value, name: str) -> str | None:
    if isinstance(value, str):
        return name if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return key.replace("\x00", "")
            found = _nul_in(item, key)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _nul_in(item, name)
            if found:
                return found
    return None


def guard():
    """Run before every request: bad bytes, idle timeout, sign-in, role, CSRF."""
    if request.endpoint == "static":
        return None
    if wants_json():  # pages name a bad form field themselves
        bad = _nul_parameter()
        if bad is not None:
            return _json_error(
                400,
                "invalid_parameter",
                f"{bad}: must not contain a NUL character",
                parameter=bad,
            )
    timed_out = _idle_timeout()
    endpoint = request.endpoint
    if endpoint is None:  # 404 / 405: Flask answers
        return None
    user = current_user
    signed_in = bool(user and user.is_authenticated)
    verdict = allowed(endpoint, user.roles if signed_in else ())
    if verdict is None:  # public
        pass
    elif not signed_in:
        if wants_json() or getattr(g, "bad_token", False):
            message = "invalid or revoked token" if g.get("bad_token") else "sign in first"
            return _json_error(401, "unauthorized", message)
        if timed_out:
            flash(_("You were signed out after a period of inactivity."), "info")
        return redirect(url_for("auth.login", next=_local_path(request.full_path)))
    elif not verdict:
        if wants_json():
            return _json_error(403, "forbidden", "your role may not use this")
        return render_template("forbidden.html"), 403
    if request.method not in SAFE_METHODS and not (signed_in and user.via != "session"):
        csrf.protect()
    return None


def _local_path(path: str | None) -> str | None:
    """``path`` if it is a path on this site (no scheme, host or '//'), else None."""
    if not path:
        return None
    path = path.rstrip("?")
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return None
    if "\\" in path or any(ord(c) < 32 for c in path):
        return None
    return path


# --- headers ----------------------------------------------------------------------------------


def csp_nonce() -> str:
    """Return this request's Content-Security-Policy nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


_SCRIPT_TAG = re.compile(r"<script(?![^>]*\bnonce=)(?=[\s>])", re.IGNORECASE)


def nonce_scripts(html: str) -> str:
    """Give every ``<script>`` tag of ``html`` that has none this response's nonce.

    Only for markup the app generated itself (folium's page), where data values are escaped
    or JSON-encoded and so cannot open a tag of their own.
    """
    return _SCRIPT_TAG.sub(f'<script nonce="{csp_nonce()}"', html)


def _basemap_origin() -> str:
    url = current_app.config.get("BASEMAP_URL") or ""
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc
    if "{s}" in url:
        host = "*." + host.split(".", 1)[1]
    return f" {parts.scheme}://{host}"


#: pages rendered by folium, whose own inline scripts get the nonce (:func:`nonce_scripts`)
FOLIUM_PAGES = frozenset({"map.map_page", "routes.route_page", "routes.plan_from_page"})


def security_headers(response):
    """Add the security headers to ``response``, and the nonce to a folium page's scripts.

    A Content-Security-Policy with this response's nonce (and the base map's origin for
    images), frame, content-type, referrer, opener and permissions policies, HSTS when the
    session cookie is Secure, and ``Cache-Control: no-store`` for everything but static
    files. A header the view set already is kept.
    """
    headers = response.headers
    if (
        request.endpoint in FOLIUM_PAGES
        and response.mimetype == "text/html"
        and not response.direct_passthrough
    ):
        response.set_data(nonce_scripts(response.get_data(as_text=True)))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{csp_nonce()}'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{_basemap_origin()}; "
        "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


# --- pages ------------------------------------------------------------------------------------


@bp.get("/login")
def login():
    """Show the sign-in page; a signed-in user goes on to ``next`` or the map."""
    if current_account() is not None:
        return redirect(_local_path(request.args.get("next")) or url_for("map.map_page"))
    return _login_page()


def _login_page(error: str | None = None, username: str = "", status: int = 200):

    demo = DEMO_ACCOUNTS if current_app.config.get("DEMO_MODE") else ()
    return (
        render_template(
            "login.html",
            error=error,
            username=username,
            next=_local_path(request.values.get("next")) or "",
            demo_accounts=demo,
        ),
        status,
    )


@bp.post("/login")
def login_post():
    """Sign in with the form's user name and password.

    On success: a new session, then on to ``next`` (a path on this site) or the map. On
    failure: the page again with 401 (a locked account is told until when); the failure is
    logged and counts towards the lock-out.
    """
    username = request.form.get("username", "")[:200]
    password = request.form.get("password", "")[:2048]
    db = get_session()
    try:
        account = authenticate(
            db,
            username,
            password,
            address=client_address(),
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
    except LoginRefused as refused:
        db.commit()  # the failure, the count and any lock-out are kept
        if refused.reason == "locked":
            until = refused.locked_until.astimezone(dt.timezone(dt.timedelta(hours=9)))
            message = _(
                "Too many failed sign-ins: this account is locked until %(time)s.",
                time=until.strftime("%H:%M"),
            )
        else:
            message = _("The user name or password is not correct.")
        return _login_page(message, username, 401)
    db.commit()
    session.clear()  # no session fixation: a new session for the signed-in user
    login_user(WebUser(account))
    session["seen"] = int(time.time())
    generate_csrf()  # the session's CSRF secret from the start: later cookies all carry it
    return redirect(_local_path(request.form.get("next")) or url_for("map.map_page"))


@bp.post("/logout")
def logout():
    """Sign out: log the event, end the session and go to the sign-in page."""
    account = current_account()
    if account is not None:
        _log_event(account.username, "logout", account)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def _csrf_failed(exc: CSRFError):
    if wants_json():
        return _json_error(400, "csrf", "missing or invalid CSRF token", parameter="csrf_token")
    return (
        render_template(
            "forbidden.html",
            code=400,
            title=_("The form expired"),
            message=_("The form expired or came from another site. Reload the page and try again."),
        ),
        400,
    )


def init_app(app: Flask) -> None:
    """Set up sign-in, CSRF, the guard and the security headers on ``app``.

    Behind ``VISITMAP_TRUSTED_PROXIES`` reverse proxies, ProxyFix takes the client's
    address, scheme and host from them. Templates get ``csp_nonce``, ``current_account`` and
    ``can``.
    """
    configure(app)
    proxies = _int_setting("TRUSTED_PROXIES", 0)
    if proxies:  # behind N reverse proxies: take the client's address and scheme from them
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=0
        )
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.before_request(guard)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["current_account"] = current_account
    app.jinja_env.globals["can"] = can
