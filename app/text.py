"""User-supplied text inside Streamlit messages, shown as the characters it is.

st.error, st.success, st.markdown and widget labels render Markdown: a project's language typed as
`![x](https://...)` would make every viewer's browser load that URL, `:red[...]` would restyle the
page. `plain` escapes the characters that make Markdown fetch or link anything (`[`, `]`, `<`, `>`:
images, links, autolinks, Streamlit's `:color[...]` directives), LaTeX (`$`), code and emphasis
(backtick, `*`) and the escape character itself, so the text reads the same and does nothing.
"""

from __future__ import annotations

import re

from core.errors import ConfigError

_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>$])")


def plain(value: object) -> str:
    """`value` as text with its Markdown-active characters backslash-escaped, on one line."""
    text = " ".join(str(value).split())  # newlines would start new Markdown blocks
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*")


def language_code(value: str, what: str = "language") -> str:
    """A language code as typed (`en`, `yor`, `pt-BR`, `yor_Latn`), or "" when empty; anything
    else is refused rather than stored and shown to every viewer of the project."""
    code = value.strip()
    if code and (len(code) > 32 or not _LANGUAGE_CODE.fullmatch(code)):
        raise ConfigError(
            f"{what} {code[:32]!r} is not a language code (letters, e.g. en, yor, pt-BR, yor_Latn)"
        )
    return code
