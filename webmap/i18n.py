"""Korean first, English second: Flask-Babel with Korean as the default locale.

Message ids are English; ``translations/ko/LC_MESSAGES/messages.po`` holds the Korean. The
``.mo`` file is compiled from it when missing or older (Babel's own compiler), so a fresh
clone needs no extra build step. A user switches with ``?lang=en`` / ``?lang=ko`` (kept in a
cookie); without either the page is Korean.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
COOKIE = "visitmap_lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compile_translations(directory: Path = TRANSLATIONS) -> None:
    """Compile every ``messages.po`` under ``directory`` whose ``.mo`` is missing or older."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po:
            catalog = read_po(po, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo:
            write_mo(mo, catalog)
        tmp.replace(mo_path)


def select_locale() -> str:
    """Return the request's locale: ``?lang=`` first, then the cookie, then Korean.

    An unknown value means Korean. The browser's Accept-Language is not consulted: the
    offices work in Korean, and English is a deliberate switch.
    """
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    return asked if asked in LOCALES else DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Compile the translations, set up Flask-Babel, and keep a ``?lang=`` choice in a cookie."""
    compile_translations()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)

    @app.after_request
    def remember_language(response):
        asked = request.args.get("lang")
        if asked in LOCALES and request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="Lax")
        return response
