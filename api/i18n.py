"""The pages' languages: German by default, English on request. Strings live in gettext
catalogues (api/locale/<lang>/LC_MESSAGES/messages.po, English msgids), compiled in memory at
import, so that nothing needs a build step.

The language of a request: the `lang` cookie the switch sets, else the best match of the
browser's Accept-Language, else German. Templates call `_()`, `gettext()` and `ngettext()`
(Jinja's i18n extension), which read the language `render()` sets for the one response.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path
from typing import Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT: Language = "de"
COOKIE = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"


def _compiled(language: Language) -> Translations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


TRANSLATIONS: dict[Language, Translations] = {lang: _compiled(lang) for lang in LANGUAGES}
_current: ContextVar[Language] = ContextVar("language", default=DEFAULT)


def language_of(request: Request) -> Language:
    """The cookie's language, else Accept-Language's best known one (by q), else German."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best: tuple[float, Language] | None = None
    for item in request.headers.get("accept-language", "").split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, primary)
    return best[1] if best else DEFAULT


def current() -> Language:
    return _current.get()


def using(language: Language) -> object:
    """Set the language for what this context renders next; returns the token to reset."""
    return _current.set(language)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def gettext(message: str) -> str:
    return str(TRANSLATIONS[_current.get()].ugettext(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    return str(TRANSLATIONS[_current.get()].ungettext(singular, plural, n))
