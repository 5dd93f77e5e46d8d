"""X's weighted post length and entity extraction, ported from twitter-text.

X refuses a post by its own weighted count, not by ``len()``: CJK and emoji weigh double, every
link weighs 23 however long it is, and a few invisible characters make a post invalid. Approving
a post that X will then refuse at publish time is the failure this module exists to prevent, so
it follows twitter-text 3.1.0 (Apache-2.0, github.com/twitter/twitter-text, commit 30e2430:
``parseTweet.js``, ``extractUrlsWithIndices.js`` and the regexes they use) and is tested against
that project's conformance file ``validate.yml``.

Where it deliberately differs from twitter-text:

* Whitespace-only text is invalid (twitter-text calls it valid): there is nothing to publish.
* Emoji are recognised with the pinned ``emoji`` package (Emoji 18.0 in 2.16.0, so 🧑🏽‍🚀 or
  🫨 count 2) instead of twemoji-parser 11's Unicode 12 table, keeping twemoji's rule that
  © and ® are text unless U+FE0F follows them.
* ``UrlSpan.url`` is always the exact slice of the text it spans.
* The URL search skips positions that cannot start a link, so it stays fast on inputs where
  twitter-text's regex backtracks quadratically; it finds the same links.

U+202A-U+202E (bidi embeddings) do *not* make a post invalid: twitter-text only refuses
U+FFFE, U+FEFF and U+FFFF, and its conformance data has a valid post containing U+202A.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

from approvals.content import _twitter_text_data as _data


@dataclass(frozen=True)
class WeightRange:
    start: int
    end: int  # inclusive code point
    weight: int


@dataclass(frozen=True)
class TextConfig:
    """One of twitter-text's ``config/v*.json``; weights are in 1/``scale`` characters."""

    version: int
    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    emoji_parsing_enabled: bool
    ranges: tuple[WeightRange, ...]


_LIGHT_RANGES = (
    WeightRange(0x0000, 0x10FF, 100),
    WeightRange(0x2000, 0x200D, 100),
    WeightRange(0x2010, 0x201F, 100),
    WeightRange(0x2032, 0x2037, 100),
)
CONFIG_V2 = TextConfig(
    version=2,
    max_weighted_length=280,
    scale=100,
    default_weight=200,
    transformed_url_length=23,
    emoji_parsing_enabled=False,
    ranges=_LIGHT_RANGES,
)
CONFIG_V1 = replace(
    CONFIG_V2, version=1, max_weighted_length=140, scale=1, default_weight=1, ranges=()
)
CONFIG_V3 = replace(CONFIG_V2, version=3, emoji_parsing_enabled=True)
DEFAULT_CONFIG = CONFIG_V3


@dataclass(frozen=True)
class ParseResult:
    """What twitter-text's ``parseTweet`` answers, field for field.

    The two ranges are inclusive ``(start, end)`` offsets in UTF-16 code units of the text as
    given (before normalisation), because that is what twitter-text and its conformance data
    define; convert them before slicing a Python ``str`` that holds astral characters.
    """

    weighted_length: int
    permillage: int
    valid: bool
    display_range: tuple[int, int]
    valid_range: tuple[int, int]


@dataclass(frozen=True)
class UrlSpan:
    url: str
    start: int  # Python str indices into the text given to extract_urls
    end: int


@dataclass(frozen=True)
class MentionSpan:
    username: str
    start: int  # index of the @ sign
    end: int


@dataclass(frozen=True)
class HashtagSpan:
    tag: str
    start: int  # index of the # sign
    end: int


# --- URLs (extractUrl.js and friends) ---------------------------------------------------------


def _trie_pattern(words: tuple[str, ...]) -> str:
    """One alternation of ``words`` factored by prefix: re tries a 1,600-way one too slowly.

    Longer words are tried first, as in twitter-text's reverse-sorted lists.
    """
    trie: dict[str, dict[str, Any]] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict[str, Any]]) -> str:
        alternatives = [re.escape(c) + emit(n) for c, n in sorted(node.items(), reverse=True) if c]
        if len(alternatives) == 1 and "" not in node:
            return alternatives[0]
        return f"(?:{'|'.join(alternatives)})" + ("?" if "" in node else "") if alternatives else ""

    return emit(trie)


_TLD_END = r"(?=[^0-9a-zA-Z@+-]|$)"
_NOT_DOMAIN = f"{_data.PUNCT_BASE}{_data.SPACES}{_data.INVALID_CHARS}{_data.DIRECTIONAL_MARKERS}"
_DOMAIN_CHAR = rf"[^{_NOT_DOMAIN}_\-]"
# A label starts and ends with a domain character; subdomains may also hold "_" inside.
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}[^{_NOT_DOMAIN}]*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}[^{_NOT_DOMAIN}_]*)?{_DOMAIN_CHAR}\.)"
_PATH_CHAR = rf"[a-z{_data.CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_data.LATIN_ACCENTS}]"
_BALANCED_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
_PATH_END = rf"(?:[+\-a-z{_data.CYRILLIC}0-9=_#/{_data.LATIN_ACCENTS}]|{_BALANCED_PARENS})"
_PATH = (
    rf"(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END}"
    rf"|@{_PATH_CHAR}+/)"
)
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"

# Where a link may begin: after anything but a letter, digit, @, $, # or invalid character.
_URL_START_RE = re.compile(
    rf"(?:^|(?<=[^A-Za-z0-9{_data.AT_SIGNS}${_data.HASH_SIGNS}{_data.INVALID_CHARS}]))"
    rf"[^{_NOT_DOMAIN}_\-]"
)
_SUBDOMAINS_RE = re.compile(f"{_SUBDOMAIN}*")
_LABEL_RE = re.compile(f"[^{_NOT_DOMAIN}]*")
_LABEL_TAIL_RE = re.compile(r"_(?=[^_.]*\.)-*")  # a label's last "_" and any "-" after it
_PROTOCOL_RE = re.compile("https?://", re.IGNORECASE)
_ASCII_LABEL = rf"[\-a-z0-9{_data.LATIN_ACCENTS}]+\."
_ASCII_LABELS_RE = re.compile(f"(?:{_ASCII_LABEL})*", re.IGNORECASE)
_TCO_RE = re.compile(rf"https?://t\.co/([a-z0-9]+)(?:{_QUERY})?", re.IGNORECASE)
_NON_ASCII_RE = re.compile(r"[^\x20-\x7e]")
_MAX_URL_LENGTH = 4096


# twitter-text's URL regex ends a domain with an alternation of its 1,600 top-level domains,
# gTLDs then ccTLDs, each followed by _TLD_END. Compiling that alternation took 25-40 ms, a
# tenth of a whole `pressgate check`, in every process that met a link. An ASCII TLD is made
# of [0-9a-z-], which _TLD_END refuses next, so it can only match as the whole run of those
# characters at its position: a set lookup decides it. The 155 TLDs with other characters
# (みんな, рф, vermögensberatung) stay a regex each for the gTLDs and the ccTLDs, tried
# before the ASCII ones of their list, as the alternation (longest first) tries them. What
# the alternation matches, this matches (tests hold the two to the same answers), except
# that an ASCII TLD's letters are ASCII only, as in twitter-text's JavaScript, where Python's
# case folding took a Kelvin sign or a dotless i for a "k" or an "i".
_ASCII_RUN_RE = re.compile(r"[0-9A-Za-z\-]*")
_PUNYCODE_TLD = "xn--"


class _TldList:
    """One of twitter-text's TLD lists: its ASCII TLDs as a set, the others as a regex
    compiled on first use (1-2 ms)."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.ascii = frozenset(word for word in words if word.isascii())
        self.others = tuple(word for word in words if not word.isascii())

    @cached_property
    def others_re(self) -> re.Pattern[str]:
        return re.compile(_trie_pattern(self.others) + _TLD_END, re.IGNORECASE)


_TLD_LISTS = (_TldList(_data.GTLDS), _TldList(_data.CCTLDS))


def _tld_end(text: str, at: int) -> int | None:
    """Where the top-level domain that starts at `at` ends; None if none starts there."""
    run_end = at + len(_ASCII_RUN_RE.match(text, at)[0])  # type: ignore[index]  # * matches
    run = text[at:run_end].lower()
    for tlds in _TLD_LISTS:
        if other := tlds.others_re.match(text, at):
            return other.end()
        if run in tlds.ascii and text[run_end : run_end + 1] not in ("@", "+"):
            return run_end
    # twitter-text's last alternative, xn--[-0-9a-z]+, takes any punycode TLD, with no
    # condition on what follows it.
    if run.startswith(_PUNYCODE_TLD) and len(run) > len(_PUNYCODE_TLD):
        return run_end
    return None


def _domain_end(
    text: str,
    start: int,
    label: re.Pattern[str] | None,
    last_label: re.Pattern[str] | None,
    least: int = 0,
) -> int | None:
    """The end of the domain at `start`: at least `least` of `label`, then `last_label`, then
    a TLD, as the regex ``label{least,}last_label TLD`` finds it: the most labels first.
    None stands for no such part; neither pattern matches the empty string."""
    ends = [start]
    while label and (found := label.match(text, ends[-1])):
        ends.append(found.end())
    for at in reversed(ends[least:]):
        if last_label is not None:
            last = last_label.match(text, at)
            if last is None:
                continue
            at = last.end()
        if (end := _tld_end(text, at)) is not None:
            return end
    return None


_SUBDOMAIN_RE = re.compile(_SUBDOMAIN, re.IGNORECASE)
_DOMAIN_NAME_RE = re.compile(_DOMAIN_NAME, re.IGNORECASE)
_ASCII_LABEL_RE = re.compile(_ASCII_LABEL, re.IGNORECASE)
# What every link's start looks like (its first label and "."), checked before any of the
# work above: most places a link could start, in prose, are words that are none.
_LABEL_AHEAD_RE = re.compile(rf"(?:https?://)?[^{_NOT_DOMAIN}]+\.", re.IGNORECASE)
_URL_TAIL_RE = re.compile(rf"(?::[0-9]+)?(?P<path>/{_PATH}*)?(?:{_QUERY})?", re.IGNORECASE)


@dataclass(frozen=True)
class _UrlMatch:
    """What twitter-text's URL regex matches at a position, and its groups."""

    start: int
    end: int
    protocol: str | None
    domain: str
    path: str | None


def _url_at(text: str, start: int) -> _UrlMatch | None:
    """twitter-text's URL regex, matched at `start`:
    ``(https?://)?(subdomain* domain_name tld)(:port)?(/path)?(?query)?``."""
    if not _LABEL_AHEAD_RE.match(text, start):
        return None
    protocol = _PROTOCOL_RE.match(text, start)
    for domain_start in (protocol.end(), start) if protocol else (start,):
        domain_end = _domain_end(text, domain_start, _SUBDOMAIN_RE, _DOMAIN_NAME_RE)
        if domain_end is not None:
            tail = _URL_TAIL_RE.match(text, domain_end)
            assert tail is not None  # every part of the tail is optional
            return _UrlMatch(
                start,
                tail.end(),
                text[start:domain_start] or None,
                text[domain_start:domain_end],
                tail["path"],
            )
    return None


def _is_name_and_tld(text: str, at: int) -> bool:
    """Whether a domain name (one label) and a TLD start at `at`."""
    return _domain_end(text, at, None, _DOMAIN_NAME_RE) is not None


def _ascii_domain_end(text: str, at: int) -> int | None:
    """twitter-text's ASCII domain (``([-a-z0-9]+\\.)+tld``) matched at `at`."""
    return _domain_end(text, at, _ASCII_LABEL_RE, None, least=1)


_MAX_TCO_SLUG_LENGTH = 40
_MAX_DOMAIN_LABEL_LENGTH = 63


def extract_urls(text: str) -> list[UrlSpan]:
    """Links as X finds them, including scheme-less ones such as ``example.com/path``.

    A scheme-less link must end in a known TLD and only its ASCII part is the link (in
    ``例え.example.com`` the link is ``example.com``), which a plain URL regex would miss.
    """
    return list(_extract_urls(text))


@lru_cache(maxsize=256)
def _extract_urls(text: str) -> tuple[UrlSpan, ...]:
    """Cached: the policy check asks for the same text's links several times per keystroke."""
    if "." not in text:
        return ()
    urls: list[UrlSpan] = []
    for match in _url_matches(text):
        start, end, domain = match.start, match.end, match.domain
        url = text[start:end]
        if not _is_valid_url(url, match.protocol or "https://", domain):
            continue
        if match.protocol:
            tco = _TCO_RE.match(url)
            if tco:
                if len(tco[1]) > _MAX_TCO_SLUG_LENGTH:
                    continue
                end = start + tco.end()  # t.co links take no path after the slug
            urls.append(UrlSpan(text[start:end], start, end))
            continue
        if start and text[start - 1] in "-_./":  # part of a longer name or path, not a link
            continue
        found = [(start + left, start + right) for left, right in _ascii_domains(domain)]
        if found and match.path:
            # As in twitter-text, the path joins the last domain; a port or a query with no
            # path is left out of the link.
            found[-1] = (found[-1][0], end)
        urls.extend(UrlSpan(text[left:right], left, right) for left, right in found)
    return tuple(urls)


def _url_matches(text: str) -> Iterator[_UrlMatch]:
    """Matches of twitter-text's URL regex, in the order its global search finds them.

    That search retries at every position of a run of domain labels, which is quadratic on a
    long run holding no link (CJK prose with a few dots, "a.a.a...") and took seconds here.
    When no link starts at a position, none starts later in the same run of subdomain labels
    (or in the same dead-end label) either, except at "http" or where a label's tail after
    its last "_" (allowed in a subdomain, not in the domain name) is a domain name before a
    TLD, so the search resumes there.
    """
    position = 0
    while candidate := _URL_START_RE.search(text, position):
        start = candidate.start()
        # The regex tries its preceding-character group before "^", so a text opening with,
        # say, a CJK character gets its link from index 1 when there is one.
        tries = (1, 0) if start == 0 and _URL_START_RE.match(text, 1) else (start,)
        if match := next((m for s in tries if (m := _url_at(text, s))), None):
            yield match
            position = match.end + 1  # the next link's preceding character comes first
            continue
        run_end = _match_end(_SUBDOMAINS_RE, text, start)
        if run_end == start:  # a dead-end label: no start inside it reaches a "." either
            run_end = _match_end(_LABEL_RE, text, start)
        for tail in _LABEL_TAIL_RE.finditer(text, start, run_end):
            if _is_name_and_tld(text, tail.end()):
                run_end = tail.end()
                break
        if protocol := _PROTOCOL_RE.search(text, start + 1, run_end + len("https://")):
            run_end = min(run_end, protocol.start())
        position = max(run_end, start + 1)


def _ascii_domains(domain: str) -> Iterator[tuple[int, int]]:
    """twitter-text's ASCII domains found in `domain` one after another, as its regex's
    ``finditer`` finds them, skipping starts that fail as a run did."""
    position = 0
    while position < len(domain):
        if (end := _ascii_domain_end(domain, position)) is not None:
            yield position, end
            position = end
        else:
            position = max(_match_end(_ASCII_LABELS_RE, domain, position), position + 1)


def _holds_ascii_domain(domain: str) -> bool:
    """Whether an ASCII domain starts anywhere in `domain`: wherever one does, a TLD follows
    a "." that ends an ASCII label, and the one-character label before that "." starts one."""
    return any(
        _ASCII_LABEL_RE.match(domain, dot - 1) and _tld_end(domain, dot + 1) is not None
        for dot in range(1, len(domain))
        if domain[dot] == "."
    )


def _match_end(pattern: re.Pattern[str], text: str, start: int) -> int:
    match = pattern.match(text, start)
    return match.end() if match else start


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's idna.toAscii check: every label fits DNS's 63 octets once punycoded."""
    if domain.startswith("xn--") and not _holds_ascii_domain(domain):
        return False
    for label in domain.split("."):
        if _NON_ASCII_RE.search(label):
            try:
                label = "xn--" + label.encode("punycode").decode("ascii")
            except UnicodeError:
                return False
        if not 1 <= len(label) <= _MAX_DOMAIN_LABEL_LENGTH:
            return False
    return len(protocol) + _utf16_len(url) <= _MAX_URL_LENGTH


# --- Mentions and hashtags ---------------------------------------------------------------------

_MENTION_RE = re.compile(
    rf"(?:^|[^a-zA-Z0-9_!#$%&*{_data.AT_SIGNS}]|(?:^|[^a-zA-Z0-9_+~.-])(?:rt|RT|rT|Rt):?)"
    rf"(?P<at>[{_data.AT_SIGNS}])(?P<name>[a-zA-Z0-9_]{{1,20}})"
    r"(?P<list>/[a-zA-Z][a-zA-Z0-9_-]{0,24})?"
)
_MENTION_END_RE = re.compile(rf"[{_data.AT_SIGNS}{_data.LATIN_ACCENTS}]|://")


def extract_mentions(text: str) -> list[MentionSpan]:
    """@usernames, without list references (``@user/list``), as twitter-text extracts them."""
    mentions = []
    for match in _MENTION_RE.finditer(text):
        if match["list"] or _MENTION_END_RE.match(text, match.end()):
            continue
        mentions.append(MentionSpan(match["name"], match.start("at"), match.end("name")))
    return mentions


def _is_hashtag_char(char: str) -> bool:
    return (
        unicodedata.category(char)[0] in "LM" or char.isdecimal() or char in _data.HASHTAG_SPECIAL
    )


def extract_hashtags(text: str) -> list[HashtagSpan]:
    """Hashtags as twitter-text finds them, with letters and marks taken from ``unicodedata``.

    A tag needs one letter (``#123`` is no tag), cannot follow a word character or ``&``, and
    is dropped where it lies inside a link (``example.com/#anchor``).
    """
    tags: list[HashtagSpan] = []
    index = 0
    while index < len(text):
        hash_at, index = index, index + 1
        if text[hash_at] not in _data.HASH_SIGNS:
            continue
        before = text[hash_at - 1] if hash_at else ""
        if before not in "\ufe0e\ufe0f" and (before == "&" or _is_hashtag_char(before)):
            continue
        end = index
        while end < len(text) and _is_hashtag_char(text[end]):
            end += 1
        body = text[index:end]
        if text.startswith(("\ufe0f", "\u20e3"), index) or not any(
            unicodedata.category(c)[0] in "LM" for c in body
        ):
            continue
        index = end
        if text.startswith((*_data.HASH_SIGNS, "://"), end):
            continue
        tags.append(HashtagSpan(body, hash_at, end))
    return _without_overlaps(tags, extract_urls(text)) if tags else []


def _without_overlaps(tags: list[HashtagSpan], urls: list[UrlSpan]) -> list[HashtagSpan]:
    """twitter-text's removeOverlappingEntities: of overlapping entities the earlier wins."""
    entities: list[HashtagSpan | UrlSpan] = [*tags, *urls]
    entities.sort(key=lambda entity: entity.start)
    kept: list[HashtagSpan | UrlSpan] = entities[:1]
    for entity in entities[1:]:
        if entity.start >= kept[-1].end:
            kept.append(entity)
    return [entity for entity in kept if isinstance(entity, HashtagSpan)]


# --- Weighted length (parseTweet.js) -----------------------------------------------------------

_BLANK_RE = re.compile(rf"[\s{_data.SPACES}]*")


def _utf16_len(text: str) -> int:
    if len(text) == 1:  # the common case, without an encode per character
        return 2 if ord(text) > 0xFFFF else 1
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _char_weight(char: str, config: TextConfig) -> int:
    code_point = ord(char)
    for weight_range in config.ranges:
        if weight_range.start <= code_point <= weight_range.end:
            return weight_range.weight
    return config.default_weight


def _emoji_spans(text: str, config: TextConfig) -> Iterator[tuple[int, int]]:
    import emoji  # its tables take longer to load than a check of plain ASCII text

    for found in emoji.emoji_list(text):
        start, end = found["match_start"], found["match_end"]
        # A lone light character (© or ®) is text unless U+FE0F follows, as in twemoji.
        if end - start > 1 or _char_weight(text[start], config) >= config.default_weight:
            yield start, end


def parse(text: str, config: TextConfig = DEFAULT_CONFIG) -> ParseResult:
    """Weigh a post the way X does and say whether X would accept its length."""
    normalized = unicodedata.normalize("NFC", text)
    # start -> (end, weight) of the spans that weigh as one unit; links win over emoji.
    units: dict[int, tuple[int, int]] = {}
    if config.emoji_parsing_enabled and not normalized.isascii():  # no emoji is ASCII
        units.update((s, (e, config.default_weight)) for s, e in _emoji_spans(normalized, config))
    url_weight = config.transformed_url_length * config.scale
    units.update((url.start, (url.end, url_weight)) for url in extract_urls(normalized))

    limit = config.max_weighted_length * config.scale
    weight = 0
    valid = True
    utf16_end = 0
    valid_end = 0  # last UTF-16 unit that is both valid and within the limit
    index = 0
    while index < len(normalized):
        end, unit_weight = units.get(index) or (index + 1, _char_weight(normalized[index], config))
        weight += unit_weight
        utf16_end += _utf16_len(normalized[index:end])
        # Like twitter-text, only the unit's last character is checked for validity.
        valid = valid and normalized[end - 1] not in _data.INVALID_CHARS
        if valid and weight <= limit:
            valid_end = utf16_end - 1
        index = end

    text_utf16_len = _utf16_len(text)
    # twitter-text shifts the valid end by the length change normalisation caused, whole.
    valid_end += text_utf16_len - utf16_end
    weighted_length = weight // config.scale
    return ParseResult(
        weighted_length=weighted_length,
        # JS's float arithmetic, so that results match twitter-text's to the unit.
        permillage=math.floor(weight / config.scale / config.max_weighted_length * 1000),
        valid=valid and 0 < weight <= limit and not _BLANK_RE.fullmatch(normalized),
        display_range=(0, max(text_utf16_len - 1, 0)),
        valid_range=(0, valid_end),
    )


def weighted_length(text: str, config: TextConfig = DEFAULT_CONFIG) -> int:
    return parse(text, config).weighted_length
