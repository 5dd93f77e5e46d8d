"""X's weighted length: twitter-text's own conformance cases first, then what pressgate needs
beyond them (newer emoji, whitespace-only posts, link spans in Python indices)."""

import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from approvals.content import _twitter_text_data as _data
from approvals.content import twitter_text
from approvals.content.twitter_text import (
    CONFIG_V1,
    CONFIG_V2,
    CONFIG_V3,
    DEFAULT_CONFIG,
    HashtagSpan,
    MentionSpan,
    ParseResult,
    TextConfig,
    UrlSpan,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    parse,
    weighted_length,
)

# A copy of twitter-text's conformance file (Apache-2.0; see LICENSE and SOURCE beside it),
# kept in the repository so CI on a fresh machine has it.
VALIDATE_YML = Path(__file__).resolve().parents[2] / "data" / "twitter-text" / "validate.yml"


def _load_conformance() -> dict[str, list[dict[str, Any]]]:
    # A missing file must fail the run, never skip: these cases are the point of the module.
    if not VALIDATE_YML.is_file():
        raise FileNotFoundError(f"twitter-text conformance data is missing: {VALIDATE_YML}")
    tests: dict[str, list[dict[str, Any]]] = yaml.safe_load(VALIDATE_YML.read_text("utf-8"))[
        "tests"
    ]
    return tests


CONFORMANCE = _load_conformance()
WEIGHTED_SECTIONS = {
    "WeightedTweetsCounterTest": CONFIG_V2,
    "WeightedTweetsWithDiscountedEmojiCounterTest": CONFIG_V3,
    "UnicodeDirectionalMarkerCounterTest": CONFIG_V3,
}


def _cases(section: str) -> list[Any]:
    return [pytest.param(case, id=case["description"]) for case in CONFORMANCE.get(section, [])]


def _as_expected(result: ParseResult) -> dict[str, Any]:
    """The result in validate.yml's vocabulary, so a failure shows every field side by side."""
    return {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
        "displayRangeStart": result.display_range[0],
        "displayRangeEnd": result.display_range[1],
        "validRangeStart": result.valid_range[0],
        "validRangeEnd": result.valid_range[1],
    }


@pytest.mark.parametrize("section", [*WEIGHTED_SECTIONS, "usernames", "hashtags"])
def test_conformance_section_is_present(section: str) -> None:
    # An emptied section would only show up as a skipped parametrisation.
    assert CONFORMANCE.get(section), f"{section} missing from {VALIDATE_YML}"


@pytest.mark.parametrize("case", _cases("WeightedTweetsCounterTest"))
def test_weighted_tweets_v2(case: dict[str, Any]) -> None:
    assert _as_expected(parse(case["text"], CONFIG_V2)) == case["expected"]


@pytest.mark.parametrize("case", _cases("WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_weighted_tweets_with_discounted_emoji_v3(case: dict[str, Any]) -> None:
    assert _as_expected(parse(case["text"], CONFIG_V3)) == case["expected"]


@pytest.mark.parametrize("case", _cases("UnicodeDirectionalMarkerCounterTest"))
def test_unicode_directional_markers_v3(case: dict[str, Any]) -> None:
    assert _as_expected(parse(case["text"], CONFIG_V3)) == case["expected"]


@pytest.mark.parametrize("case", _cases("usernames"))
def test_conformance_usernames(case: dict[str, Any]) -> None:
    # twitter-text's isValidUsername: the whole text is one extracted mention.
    text = case["text"]
    assert (extract_mentions(text) == [MentionSpan(text[1:], 0, len(text))]) is case["expected"]


@pytest.mark.parametrize("case", _cases("hashtags"))
def test_conformance_hashtags(case: dict[str, Any]) -> None:
    # twitter-text's isValidHashtag: the whole text is one extracted hashtag.
    text = case["text"]
    assert (extract_hashtags(text) == [HashtagSpan(text[1:], 0, len(text))]) is case["expected"]


# --- Length limits -----------------------------------------------------------------------------


def test_v3_is_the_default() -> None:
    assert DEFAULT_CONFIG is CONFIG_V3
    assert (CONFIG_V3.max_weighted_length, CONFIG_V3.emoji_parsing_enabled) == (280, True)


def test_280_ascii_characters_are_valid_and_281_are_not() -> None:
    assert parse("a" * 280) == ParseResult(280, 1000, True, (0, 279), (0, 279))
    assert parse("a" * 281) == ParseResult(281, 1003, False, (0, 280), (0, 279))


def test_cjk_counts_double() -> None:
    assert parse("字" * 140).valid
    over = parse("字" * 141)
    assert (over.weighted_length, over.valid, over.valid_range) == (282, False, (0, 139))


def test_ranges_are_in_utf16_code_units_like_twitter_text() -> None:
    # Each 😷 is one Python character but two UTF-16 units; X's ranges count the latter.
    result = parse("😷" * 141, CONFIG_V2)
    assert (result.display_range, result.valid_range) == ((0, 281), (0, 279))


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\t \r\n", "\u3000", "\xa0\u2003\u200a"])
def test_empty_or_whitespace_only_is_invalid(text: str) -> None:
    assert not parse(text).valid


def test_text_is_nfc_normalised_before_counting() -> None:
    assert weighted_length("e\u0301") == 1
    assert weighted_length("\u212b") == 1  # the Angstrom sign becomes a light Å


@pytest.mark.parametrize("char", ["\ufeff", "\ufffe", "\uffff"])
def test_invalid_characters_make_the_post_invalid(char: str) -> None:
    result = parse(f"hello{char}world")
    assert not result.valid
    assert result.valid_range == (0, 4)


@pytest.mark.parametrize("char", ["\u202a", "\u202e", "\u200e", "\u2066"])
def test_bidi_controls_are_allowed(char: str) -> None:
    # twitter-text only refuses U+FFFE, U+FEFF and U+FFFF; its conformance data has a valid
    # post with U+202A and U+202C, so embeddings are counted (weight 2), not refused.
    assert parse(f"hello {char}world").valid


def test_v1_counts_every_character_once_in_140() -> None:
    assert parse("字" * 140, CONFIG_V1).valid
    assert not parse("a" * 141, CONFIG_V1).valid
    assert weighted_length("see https://example.com/" + "x" * 100, CONFIG_V1) == 27


def test_a_custom_config_scales() -> None:
    config = TextConfig(9, 10, 10, 15, 5, False, ())
    assert parse("abcdef", config) == ParseResult(9, 900, True, (0, 5), (0, 5))


# --- Emoji ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "v2_weight"),
    [
        ("🧑🏽\u200d🚀", 7),  # astronaut, medium skin tone (ZWJ, Unicode 12)
        ("🏳\ufe0f\u200d⚧\ufe0f", 9),  # transgender flag (ZWJ, Unicode 13)
        ("\U0001fae8", 2),  # shaking face (Unicode 15)
        ("🐦\u200d🔥", 5),  # phoenix (ZWJ, Unicode 15.1)
        ("🙂\u200d↔\ufe0f", 7),  # head shaking horizontally (ZWJ, Unicode 15.1)
        ("👩🏾\u200d❤\ufe0f\u200d💋\u200d👨🏻", 17),  # kiss with skin tones
        ("🇺🇦", 4),  # flag sequence
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 14),  # Scotland
        ("#\ufe0f\u20e3", 5),  # keycap
        ("1\u20e3", 3),  # keycap without its variation selector
        ("❤\ufe0f", 4),  # text-default heart with U+FE0F
        ("©\ufe0f", 3),
    ],
)
def test_an_emoji_counts_two_in_v3_and_per_code_point_in_v2(text: str, v2_weight: int) -> None:
    assert weighted_length(text) == 2
    assert weighted_length(text, CONFIG_V2) == v2_weight


def test_text_default_symbols_without_variation_selector_count_as_text() -> None:
    # twemoji (and so X) only reads © and ® as emoji when U+FE0F follows.
    assert weighted_length("© 2026 ®") == 8


def test_a_non_rgi_zwj_pair_counts_its_parts() -> None:
    assert weighted_length("👨\u200d🍕") == 5


def test_140_new_emoji_fill_a_post() -> None:
    astronaut = "🧑🏽\u200d🚀"
    assert parse(astronaut * 140).valid
    assert not parse(astronaut * 141).valid


# --- Links ------------------------------------------------------------------------------------


def test_a_link_weighs_23_however_long() -> None:
    assert weighted_length("https://example.com/" + "a" * 500) == 23
    assert weighted_length("example.com") == 23
    assert weighted_length("see example.com/path?q=1 and http://t.co/abc") == 4 + 23 + 5 + 23


def test_url_spans_are_python_indices_into_the_original_text() -> None:
    text = (
        "🚀🚀 read https://example.com/a?b=1. Also 例え.example.co.jp/path, "
        "(see t.co/abc) http://en.wikipedia.org/wiki/Python_(programming_language)"
    )
    urls = extract_urls(text)
    assert [u.url for u in urls] == [
        "https://example.com/a?b=1",
        "example.co.jp/path",
        "t.co/abc",
        "http://en.wikipedia.org/wiki/Python_(programming_language)",
    ]
    assert urls[0] == UrlSpan("https://example.com/a?b=1", 8, 33)
    assert all(text[u.start : u.end] == u.url for u in urls)


def test_url_spans_ignore_normalisation() -> None:
    # extract_urls works on the text as given, so spans stay valid for it.
    text = "Cafe\u0301 https://example.com"
    assert extract_urls(text) == [UrlSpan("https://example.com", 6, 25)]


@pytest.mark.parametrize(
    "text",
    [
        "mail me@example.com",  # an address is no link
        "ftp://www.example.com/",  # nor another scheme, nor what follows its "//"
        "notatld.invalidtld",
        "http://256.1.2.3/",
        "version 1.2.3",
        "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",  # 64-char label
    ],
)
def test_not_links(text: str) -> None:
    assert extract_urls(text) == []


def test_tco_links_stop_after_the_slug() -> None:
    assert [u.url for u in extract_urls("https://t.co/abc123/extra")] == ["https://t.co/abc123"]


def test_a_pathological_label_run_is_fast() -> None:
    # twitter-text's regex is quadratic here; a plain port took minutes on this input.
    started = time.perf_counter()
    for text in ("a." * 5000, "故人西辞黄鹤楼3.5" * 1000, "a_b." * 3000 + "x", "a-" * 5000 + "."):
        parse(text)
    assert time.perf_counter() - started < 5


_TOKENS = [
    *"abhx1_-./:@#$?=()!'~ +",
    *("http://", "HTTPS://", "com", "co", "jp", "www", "t.co/", "xn--p1ai", "8080", "COM"),
    *("あ", "故", "。", "みんな", "é", "\u202a", "\u200e", "\ufeff", "\n", "x_", "_-", "a_b"),
    *("рф", "РФ", "onion", "xn--", "XN--ab", "co.uk", "ab-", "-1", "é."),
]
# twitter-text's regexes as it writes them, each TLD list one alternation: the reference
# for pressgate's matching, which looks TLDs up in a set instead.
_TLD = (
    f"(?:{twitter_text._trie_pattern(_data.GTLDS)}{twitter_text._TLD_END}"
    f"|{twitter_text._trie_pattern(_data.CCTLDS)}{twitter_text._TLD_END}"
    r"|xn--[\-0-9a-z]+)"
)
_URL = (
    rf"(?P<protocol>https?://)?"
    rf"(?P<domain>{twitter_text._SUBDOMAIN}*{twitter_text._DOMAIN_NAME}{_TLD})"
    r"(?::[0-9]+)?"
    rf"(?P<path>/{twitter_text._PATH}*)?"
    rf"(?:{twitter_text._QUERY})?"
)
_REFERENCE_URL_RE = re.compile(_URL, re.IGNORECASE)
_REFERENCE_SEARCH_RE = re.compile(  # the URL regex searched the plain way
    rf"(?:[^A-Za-z0-9@\uff20$#\uff03\ufffe\ufeff\uffff]|^)(?P<url>{_URL})", re.IGNORECASE
)
_REFERENCE_NAME_AND_TLD_RE = re.compile(twitter_text._DOMAIN_NAME + _TLD, re.IGNORECASE)
_REFERENCE_ASCII_DOMAIN_RE = re.compile(
    rf"(?:[\-a-z0-9{_data.LATIN_ACCENTS}]+\.)+{_TLD}", re.IGNORECASE
)
_TEXTS = st.lists(st.sampled_from(_TOKENS), max_size=40).map("".join)


_EDGES = "go to x.xn--p1ai/a, y.XN--ab@z, a.com@b, a.com+, ü.vermögensberatung, b.co.uk."


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
@example(_EDGES)
def test_the_fast_url_search_finds_what_the_plain_search_finds(text: str) -> None:
    expected = [m.span("url") for m in _REFERENCE_SEARCH_RE.finditer(text)]
    assert [(m.start, m.end) for m in twitter_text._url_matches(text)] == expected


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.integers(min_value=0, max_value=40))
@example(_EDGES, 6)
@example(_EDGES, 20)
def test_each_domain_matcher_matches_what_the_tld_alternation_matches(
    text: str, start: int
) -> None:
    start = min(start, len(text))
    url, reference = twitter_text._url_at(text, start), _REFERENCE_URL_RE.match(text, start)
    assert (url and (url.start, url.end, url.protocol, url.domain, url.path)) == (
        reference
        and (reference.start(), reference.end(), *reference.group("protocol", "domain", "path"))
    )
    assert twitter_text._is_name_and_tld(text, start) == bool(
        _REFERENCE_NAME_AND_TLD_RE.match(text, start)
    )
    ascii_domain = _REFERENCE_ASCII_DOMAIN_RE.match(text, start)
    assert twitter_text._ascii_domain_end(text, start) == (ascii_domain and ascii_domain.end())
    assert twitter_text._holds_ascii_domain(text) == bool(_REFERENCE_ASCII_DOMAIN_RE.search(text))


@pytest.mark.parametrize("tld", [*_data.GTLDS, *_data.CCTLDS])
def test_every_tld_of_twitter_text_ends_a_link_as_its_alternation_does(tld: str) -> None:
    for text in (f"see example.{tld} now", f"https://a.{tld.upper()}/x", f"x.{tld}@y", f"x.{tld}+"):
        found = [(u.start, u.end) for u in extract_urls(text)]
        plain = [m.span("url") for m in _REFERENCE_SEARCH_RE.finditer(text)]
        assert found == plain, text
    assert extract_urls(f"see example.{tld}")


def test_a_character_that_python_folds_onto_ascii_is_no_letter_of_an_ascii_tld() -> None:
    """JavaScript's case-insensitive regexes (twitter-text's) never fold a non-ASCII
    character onto an ASCII one; Python's fold the Kelvin sign (U+212A) onto k, the dotless
    i (U+0131) onto i."""
    assert "ink" in _data.GTLDS
    assert extract_urls("see example.ink") == [UrlSpan("example.ink", 4, 15)]
    assert extract_urls("see example.\u0131nk") == []
    # Nor does the Kelvin sign continue "in" (India's TLD): the link ends before it.
    assert extract_urls("see example.in\u212a") == [UrlSpan("example.in", 4, 14)]


# --- Mentions and hashtags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@username yo!", [MentionSpan("username", 0, 9)]),
        ("username @username", [MentionSpan("username", 9, 18)]),
        ("の@usernameに到着を待っている", [MentionSpan("username", 1, 10)]),
        ("🚀 RT @user: hi", [MentionSpan("user", 5, 10)]),
        ("Hey @username, see @otheruser/list_name-01!", [MentionSpan("username", 4, 13)]),
        ("mail me@example.com", []),
        ("@user@example", []),
        ("\uff20fullwidth", [MentionSpan("fullwidth", 0, 10)]),
    ],
)
def test_mentions(text: str, expected: list[MentionSpan]) -> None:
    assert extract_mentions(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#hashtag here", [HashtagSpan("hashtag", 0, 8)]),
        ("#123 a #hashtag in a string", [HashtagSpan("hashtag", 7, 15)]),
        ("会議中 #hashtag 会議中", [HashtagSpan("hashtag", 4, 12)]),
        (
            "Hashtags in #中文, #日本語, #한국말, and #русский! Try it out!",
            [
                HashtagSpan("中文", 12, 15),
                HashtagSpan("日本語", 17, 21),
                HashtagSpan("한국말", 23, 27),
                HashtagSpan("русский", 33, 41),
            ],
        ),
        ("🚀 #launch", [HashtagSpan("launch", 2, 9)]),
        ("#हिन्दी", [HashtagSpan("हिन्दी", 0, 7)]),  # combining marks belong to the tag
        ("http://example.com/#anchor", []),
        ("#\ufe0f\u20e3 keycap", []),
        ("AT&T&#39;s a#b", []),
        ("#one#two", []),
    ],
)
def test_hashtags(text: str, expected: list[HashtagSpan]) -> None:
    assert extract_hashtags(text) == expected
