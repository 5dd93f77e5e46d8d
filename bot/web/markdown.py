"""Markdown to HTML for text the organisation writes (the guidance), in safe mode.

The text comes from the permission map, which many people edit, and is shown to every
member of staff, so it must not be able to run anything or pull anything in: raw HTML is
escaped (`html: False`), links may only be http(s) or mailto (no `javascript:`, `data:` or
relative tricks), and images are not rendered at all (nothing is fetched from elsewhere;
the page's CSP would refuse them anyway).
"""

from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

LINK_SCHEMES = frozenset({"http", "https", "mailto"})


class SafeMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # markdown-it's hook, hence its name
        """Only absolute http(s) and mailto links; anything else stays plain text."""
        try:
            scheme = urlsplit(url.strip()).scheme.lower()
        except ValueError:
            return False
        return scheme in LINK_SCHEMES


@lru_cache(maxsize=1)
def _parser() -> SafeMarkdown:
    parser = SafeMarkdown("commonmark", {"html": False})
    parser.disable("image")
    return parser


def render_markdown(text: str, *, demote: int = 0) -> Markup:
    """HTML that is safe to put in a page as it is.

    `demote` moves every heading down that many levels (at most to h6), so a text whose
    title is `#` sits under the page's own h1 with its headings still in order.
    """
    parser = _parser()
    env: dict[str, object] = {}
    tokens = parser.parse(text, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + demote, 6)}"
    # Markup: markdown-it escaped every character of the text that is not Markdown.
    return Markup(parser.renderer.render(tokens, parser.options, env))
