"""One check of "one language per page", used by the unit and the browser tests: on a Bangla
page no English word, on an English page no Bangla letter. Names, addresses, ids and other
text people typed are marked in the markup (<bdi>, <code>, class "ut", or their own lang)
and left out; codes such as GPO, A4 or CP123456785BD are identifiers, not words."""

from __future__ import annotations

import re

BANGLA = re.compile(r"[\u0980-\u09FF]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’._-]*")
IDENTIFIER = re.compile(r"^(?:[A-Z0-9][A-Z0-9_./-]*|[a-z0-9]+(?:[_./][a-z0-9]+)+)$")

# JavaScript run in the page: its visible text without the marked parts.
VISIBLE_TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('bdi, code, .ut, [lang], script, style, textarea').forEach(e => e.remove());
  return document.title + '\\n' + body.textContent;
}"""


def foreign_words(text: str, lang: str) -> list[str]:
    """What does not belong on a page in ``lang``."""
    if lang == "en":
        return sorted({w for w in re.findall(r"\S*[\u0980-\u09FF]\S*", text)})
    # Quoted literals ('Bearer <key>', 'fee') are syntax the caller must type, not prose.
    text = re.sub(r"'[^']*'", " ", text)
    return sorted({w for w in LATIN_WORD.findall(text) if not IDENTIFIER.match(w)})
