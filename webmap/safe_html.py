"""folium pages that never treat data as code.

branca (folium's base) compiles the string given to ``Element(template)`` as a Jinja template,
and folium wraps *already rendered* output in such Elements everywhere: every layer's script
(``MacroElement.render``), the map itself, and the page markup the app added. So data inside
it (a dong, facility, team, member or resident name) ran as template code: ``{{7*7}}`` showed
49 and a crafted name reached Python (issue 10). :func:`render_verbatim` (applied when this
module is imported, before any page is made) makes ``Element(string)`` keep its string as
written: folium's own templates are class attributes compiled from the library's source, so
only rendered output goes through ``Element(string)``, and it is never compiled again.

``folium.Tooltip`` also puts its text inside a JavaScript template literal, where ``${...}``
runs and a backtick ends the script; :class:`TextTooltip` passes the text as a JSON string,
HTML-escaped, so Leaflet shows it as typed. Markup the app rendered itself is added as
``folium.Element(markup)``, which the patch keeps verbatim.
"""

from __future__ import annotations

import html
import json

from branca.element import Element, MacroElement
from jinja2 import Template


def js_string(value: str) -> str:
    """Return ``value`` as a JavaScript string literal that is also safe inside ``<script>``.

    JSON, with ``<``, ``>``, ``&`` and the line separators U+2028 and U+2029 escaped.
    """
    return (
        json.dumps(str(value), ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class TextTooltip(MacroElement):
    """A tooltip showing ``text`` as plain text: no markup, template or script in it works.

    The text is escaped for HTML and passed to the script as a JSON string.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.js_text }}, {{ this.js_options }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str, *, sticky: bool = True, **options):
        super().__init__()
        self._name = "TextTooltip"
        self.js_text = js_string(html.escape(str(text)))
        self.js_options = js_string_free(dict(options, sticky=sticky))


def js_string_free(options: dict) -> str:
    """Leaflet options (numbers, booleans, fixed strings of ours) as a JavaScript object."""
    return json.dumps(options).replace("<", "\\u003c")


class _Verbatim:
    """Stands in for a compiled template: renders to its text as written."""

    def __init__(self, text: str):
        self.text = text

    def render(self, *args, **kwargs) -> str:
        return self.text


_element_init = Element.__init__


def _verbatim_init(self, template=None, template_name=None):
    _element_init(self, None, template_name)
    if template is not None:
        self._template_str = template
        self._template = _Verbatim(str(template))


def render_verbatim() -> None:
    """Make ``branca.element.Element(string)`` keep ``string`` as written (module docstring).

    Idempotent.
    """
    Element.__init__ = _verbatim_init


render_verbatim()
