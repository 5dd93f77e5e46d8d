"""Markdown in safe mode: raw HTML comes out as text, links go only to http(s) and mailto,
images are never fetched; the guidance's own Markdown renders as it should."""

import pytest

from bot.web.markdown import render_markdown


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[x]: javascript:alert(1)\n\n[y][x]",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](//evil.example/path)",
        "[x](/relative/path)",
        "[x](file:///etc/passwd)",
    ],
)
def test_links_other_than_http_and_mailto_stay_plain_text(source: str) -> None:
    html = render_markdown(source)
    assert "<a" not in html and "href" not in html, html


@pytest.mark.parametrize(
    ("source", "link"),
    [
        ("[the rules](https://www.gov.uk/rules)", '<a href="https://www.gov.uk/rules">'),
        ("[old](http://example.org)", '<a href="http://example.org">'),
        ("[mail us](mailto:press@example.org)", '<a href="mailto:press@example.org">'),
        ("<https://www.gov.uk>", '<a href="https://www.gov.uk">'),
        ('[q](https://ok.example/?a="b")', '<a href="https://ok.example/?a=%22b%22">'),
    ],
)
def test_http_and_mailto_links_are_links(source: str, link: str) -> None:
    assert link in render_markdown(source)


def test_raw_html_is_escaped_not_run() -> None:
    html = render_markdown('<script>alert(1)</script>\n\nHi <img src=x onerror="alert(2)"> there')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_images_are_not_rendered_so_nothing_is_fetched() -> None:
    html = render_markdown("![logo](https://evil.example/logo.png)")
    assert "<img" not in html


def test_headings_can_be_demoted_under_the_pages_own_title() -> None:
    html = render_markdown("# Title\n\n## Part\n\n###### Deep", demote=1)
    assert "<h2>Title</h2>" in html and "<h3>Part</h3>" in html and "<h6>Deep</h6>" in html
    assert "<h1>" not in html
