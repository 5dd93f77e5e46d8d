"""Detectors for personal data in the text of a post: pure functions, no I/O.

The policy engine calls `find_personal_data` on each part of a post (on every keystroke of
the live check) and turns the matches into findings. Each detector aims to be precise: the
near misses a press officer writes every day (dates, statistics, reference numbers, "I'm at
liberty to say") must not be flagged.

How it runs: one compiled expression scans the text once, trying only where a word starts,
for National Insurance numbers, postcodes, the trigger phrases of whereabouts and runs of
digits. A run of ten or more digits is read again by three small expressions limited to
that run (card, phone, UTR), whose candidates are checked in Python (Luhn, digit counts and
prefixes, the UTR check digit). E-mail addresses are found from each "@", so a post without
one costs nothing for them. Every quantifier is bounded or possessive, or separates tokens
that cannot be confused, so the time is linear in the length of the text.

When two readings overlap the more specific one wins, in this order:
email > card_number > ni_number > uk_phone > utr > postcode > whereabouts.
In practice only numbers compete (a card beats a phone number beats a UTR in the same run
of digits): an e-mail address is taken whole before anything inside it is considered; NI
numbers and postcodes are letter-led shapes that nothing else can start with; and the place
words after a whereabouts phrase stop where any other match begins, so "I'm at SW1A 2AA"
gives the whereabouts "I'm at" and the postcode "SW1A 2AA". `kinds` only filters the result:
asking for fewer kinds never changes the spans of the ones returned.
"""

import re
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class DataKind(StrEnum):
    EMAIL = "email"
    UK_PHONE = "uk_phone"
    NI_NUMBER = "ni_number"
    UTR = "utr"
    CARD_NUMBER = "card_number"
    POSTCODE = "postcode"
    WHEREABOUTS = "whereabouts"


ALL_KINDS: frozenset[DataKind] = frozenset(DataKind)

# Most specific first; see the module docstring for how each overlap is settled.
PRECEDENCE: tuple[DataKind, ...] = (
    DataKind.EMAIL,
    DataKind.CARD_NUMBER,
    DataKind.NI_NUMBER,
    DataKind.UK_PHONE,
    DataKind.UTR,
    DataKind.POSTCODE,
    DataKind.WHEREABOUTS,
)

EXPLANATIONS: dict[DataKind, str] = {
    DataKind.EMAIL: "Looks like an email address; don't post anyone's personal email address.",
    DataKind.UK_PHONE: (
        "Looks like a UK phone number; post only an official published number, "
        "never a personal one."
    ),
    DataKind.NI_NUMBER: "Looks like a National Insurance number; never post one.",
    DataKind.UTR: "Looks like a Unique Taxpayer Reference (UTR); never post one.",
    DataKind.CARD_NUMBER: "Looks like a bank card number; never post one.",
    DataKind.POSTCODE: (
        "Looks like a full postcode, which can identify someone's home; "
        "post it only if it is an official address."
    ),
    DataKind.WHEREABOUTS: (
        "Says where someone is, will be or when they are away; "
        "don't post staff whereabouts as they happen."
    ),
}


_Span = tuple[int, int, DataKind]


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of personal data: `text == source[start:end]` (Python string indices)."""

    kind: DataKind
    start: int
    end: int
    text: str
    explanation: str


# --- the single pass ------------------------------------------------------------------
# Under re.VERBOSE a space must be written [ ]; "#" and spaces inside [...] are literal.
_WS = r"[^\S\r\n]++"  # spaces or tabs, never a line break

# addr-spec-ish: a dot-separated local part, then a domain with at least one dot and a
# letter TLD, so "@handle" mentions and "user@localhost" are not addresses. Addresses are
# found from each "@" (most posts have none), not by trying every word.
_EMAIL_LOCAL = re.compile(r"\w[\w%+-]*+(?:[.'][\w%+-]++)*+")
_EMAIL_LOCAL_CHARS = frozenset("._%+'-")  # with letters and digits; ' as in o'brien@
_EMAIL_LOCAL_MAX = 64
_EMAIL_DOMAIN = re.compile(r"(?:[a-z0-9]++(?:-++[a-z0-9]++)*+\.)+[a-z]{2,24}+(?!\w)", re.I)

# HMRC: first letter not D F I Q U V; second not D F I O Q U V; BG GB KN NK NT TN ZZ are
# never allocated. The suffix (A-D) is optional because some systems drop it; the word
# boundaries either side keep "AB123456" from matching inside a longer code. A suffix
# after a space must be a capital, so the "a" of "AB 12 34 56 a" stays prose.
_NI = r"""
    (?!bg|gb|kn|nk|nt|tn|zz)
    [a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]
    [ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?[0-9]{2}
    (?:[a-d]|[ ](?-i:[A-D]))?
    (?!\w)
"""

# A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA and GIR 0AA, with the letters each
# position allows. A lower-case ordinal after a short outward code ("F1 2nd") is prose.
_POSTCODE = r"""
    (?:
        gir[ ]?0aa
      | [a-pr-uwyz]
        (?: [0-9][a-hjkpstuw]? | [0-9]{2} | [a-hk-y][0-9](?:[0-9]|[abehmnprv-y])? )
        [ ]?[0-9](?!(?-i:st|nd|rd|th)\b)[abd-hjlnp-uw-z]{2}
    )
    (?!\w)
"""

# Phrases that would otherwise read as a place: "I'm at liberty to say", "at least",
# "I'm at the moment unsure", "here at last", "we're at the forefront of", and figures:
# "currently at 3.2%", "heading to £2bn", "currently at a record high".
_NOT_A_PLACE = r"""
    (?:
        liberty | least | last | all | risk | odds | fault | pains | a[ ]loss | ease | once
      | present | times? | first | best | worst | pace | scale | capacity | a[ ]crossroads
      | (?:the|this|that|an?)[ ](?:(?:early|critical|crucial|key|turning)[ ])?
        (?:moment|point|stage|time)
      | (?:the[ ])?(?:forefront|heart|centre|center|core|cutting[ -]edge)
      | (?:(?:a|an|its|their|the)[ ])?(?:record|all-time|highest|lowest|peak)
      | [0-9][0-9.,]*[ ]?(?:per[ ]?cent|percent|million|billion|bn|m|k)
    )\b
  | [0-9][0-9.,]*[ ]?%
  | [£$€][0-9]
"""
_A_TIME = r"[0-9]{1,2}(?:[:.][0-9]{2})?[ ]?(?:am|pm)\b | [0-9]{1,2}[:.][0-9]{2}\b"  # 9am, 18:00

_WHEREABOUTS = rf"""
    (?:
        (?:
            (?:i['\u2019]m | i{_WS}am | we['\u2019]re | we{_WS}are | currently | here
              | checked{_WS}in){_WS}at
          | just{_WS}arrived{_WS}(?:at|in)
          | (?:on{_WS}my{_WS}way | heading){_WS}to
          | live{_WS}from(?!{_WS}(?:{_A_TIME}|today|tomorrow|now)\b)
          | (?:on{_WS}holiday | away){_WS}until
        )
        (?={_WS}[^\s.,;:!?])
        (?!{_WS}(?:{_NOT_A_PLACE}))
      | my{_WS}location\b
      | at{_WS}home{_WS}alone\b
    )
"""

# A run of digits joined by single spaces, hyphens or brackets, e.g. "+44 (0)20 7946-0000"
# or "2955839661K"; possessive, so a long run is read once.
_NUMBER_RUN = r"""
    [+(]?[0-9]
    (?:[ \u00a0-]?(?:\(0\)|[()])?[ \u00a0-]?[0-9])*+
    (?:k(?!\w))?
"""

# Every branch starts a word; a cheap look-ahead on the first characters keeps most words
# from entering branches that cannot match them.
_SCAN = re.compile(
    rf"""
    (?<!\w)
    (?:
        (?=[0-9+(]) (?P<number>{_NUMBER_RUN})
      | (?=[a-z]{{1,2}}[ ]?[0-9]|gir) (?: (?P<ni>{_NI}) | (?P<postcode>{_POSTCODE}) )
      | (?=[iwchjolam]) (?P<whereabouts>{_WHEREABOUTS})
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)

_KIND_OF_GROUP = {
    "ni": DataKind.NI_NUMBER,
    "postcode": DataKind.POSTCODE,
    "whereabouts": DataKind.WHEREABOUTS,
}

# --- inside a run of digits -----------------------------------------------------------
_FEWEST_DIGITS = 10  # a 0800 number or a UTR; a shorter run of digits is skipped
_FEWEST_CARD_DIGITS = 13

# 13 to 19 digits, unbroken or grouped with one kind of separator (4-4-4-4, 4-4-4-4-3,
# 4-6-5 for Amex, 4-6-4 for Diners); kept only if Luhn-valid with an IIN starting 2 to 6.
_CARD = re.compile(
    r"""
    (?<![0-9])
    (?:
        [0-9]{13,19}
      | [0-9]{4}(?P<s>[ \u00a0-])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{1,3})?
      | [0-9]{4}(?P<t>[ \u00a0-])[0-9]{6}(?P=t)[0-9]{4,5}
    )
    (?![0-9])
    """,
    re.VERBOSE,
)

# +44, 0044 or 0, then the national number in any grouping; kept only with 11 digits after
# a 01, 02, 03, 07, 0800 or 0808 prefix, or 10 digits after 0800. Not flagged: 084, 087 and
# 09 numbers (not personal) and the few 10-digit 016977 numbers.
_PHONE = re.compile(
    r"""
    (?<![0-9+])
    (?:
        (?P<intl>\+|00)44[ \u00a0-]?(?:\(0\)[ \u00a0-]?)?
      | \(0[0-9]{2,5}\)[ \u00a0-]?
      | 0
    )
    [0-9](?:[ \u00a0-]?[0-9]){4,9}
    (?![0-9])
    """,
    re.VERBOSE,
)

# Ten digits, maybe "12345 67890", maybe with the K of a payment reference; kept if the
# check digit is right, the K is there, or a context word is within 40 characters.
_UTR = re.compile(r"(?<![0-9])[0-9]{5}[ \u00a0]?[0-9]{5}(?:k(?!\w))?(?![0-9])", re.IGNORECASE)
_UTR_CONTEXT = re.compile(
    r"\b(?:utr|(?:unique[ ]+)?tax(?:payer)?[ ]+reference|self[ -]+assessment)\b",
    re.IGNORECASE,
)
_UTR_CONTEXT_REACH = 40
# HMRC's check: the first digit is derived from the other nine (verified against HMRC's own
# UTR validator, python-stdnum's gb.utr and Sage's worked example 3282497350).
_UTR_WEIGHTS = (6, 7, 8, 9, 10, 5, 4, 3, 2)
_UTR_CHECK_DIGITS = "21987654321"  # indexed by the weighted sum modulo 11

_NON_DIGITS = re.compile(r"[^0-9]+")
_GEOGRAPHIC_MOBILE_OR_NATIONAL = frozenset("1237")  # 01, 02, 03, 07
_FREEPHONE = ("0800", "0808")

# --- whereabouts place words ----------------------------------------------------------
_PLACE_CHARS = 40
_PLACE_STOP = '.,;:!?()[]{}"|\u201c\u201d\u2013\u2014'  # with curly quotes, en and em dash
_PLACE = re.compile(
    rf"{_WS}[^\s{re.escape(_PLACE_STOP)}]++(?:{_WS}[^\s{re.escape(_PLACE_STOP)}]++)*+"
)


def luhn_valid(digits: str) -> bool:
    """Whether `digits` passes the Luhn check; spaces and hyphens are ignored.

    Anything else than ASCII digits, spaces and hyphens, or no digit at all, is not valid.
    """
    compact = digits.replace(" ", "").replace("-", "")
    if not compact or not (compact.isascii() and compact.isdigit()):
        return False
    total = 0
    for position, char in enumerate(reversed(compact)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_personal_data(text: str, kinds: Collection[DataKind] = ALL_KINDS) -> list[Match]:
    """Personal data in `text`, sorted by start and never overlapping.

    `kinds` filters the result; it does not change how overlaps are settled.
    """
    found: list[_Span] = []
    for match in _SCAN.finditer(text):
        group = match.lastgroup
        start, end = match.span()
        if group == "number":
            if end - start >= _FEWEST_DIGITS:  # never fewer digits than characters
                found.extend(_numbers_in_run(text, start, end))
        elif group is not None:
            found.append((start, end, _KIND_OF_GROUP[group]))
    if "@" in text:
        emails = list(_emails(text))
        if emails:
            found = sorted(emails + _outside(found, emails))
    if not found:
        return []
    wanted = kinds if isinstance(kinds, frozenset | set) else frozenset(kinds)
    matches = []
    for index, (start, end, kind) in enumerate(found):
        if kind not in wanted:
            continue
        if kind is DataKind.WHEREABOUTS:
            limit = found[index + 1][0] if index + 1 < len(found) else len(text)
            end = _place_end(text, end, limit)
        matches.append(Match(kind, start, end, text[start:end], EXPLANATIONS[kind]))
    return matches


def _emails(text: str) -> Iterator[_Span]:
    """E-mail addresses, found by reading back from each "@" to the start of the local part
    and forward over the domain."""
    at = text.find("@")
    previous_end = 0
    while at != -1:
        start = at
        floor = max(previous_end, at - _EMAIL_LOCAL_MAX - 1)
        while start > floor and _is_local_char(text[start - 1]):
            start -= 1
        while start < at and not _is_word_char(text[start]):
            start += 1  # a local part begins with a letter or digit: skip "'" in "'jo@…"
        local = _EMAIL_LOCAL.fullmatch(text, start, at)
        domain = _EMAIL_DOMAIN.match(text, at + 1) if local else None
        if domain is not None and at - start <= _EMAIL_LOCAL_MAX:
            yield (start, domain.end(), DataKind.EMAIL)
            previous_end = domain.end()
            at = text.find("@", previous_end)
        else:
            at = text.find("@", at + 1)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches in a str pattern


def _is_local_char(char: str) -> bool:
    return char.isalnum() or char in _EMAIL_LOCAL_CHARS


def _outside(spans: list[_Span], emails: list[_Span]) -> list[_Span]:
    """The spans that overlap no e-mail address (both lists sorted, neither overlapping)."""
    kept = []
    index = 0
    for span in spans:
        while index < len(emails) and emails[index][1] <= span[0]:
            index += 1
        if index == len(emails) or emails[index][0] >= span[1]:
            kept.append(span)
    return kept


def _place_end(text: str, start: int, limit: int) -> int:
    """Where the place words after a whereabouts phrase end: at punctuation, a line break,
    the next match, or the last whole word within about 40 characters."""
    stop = min(limit, start + _PLACE_CHARS)
    place = _PLACE.match(text, start, stop)
    if place is None:
        return start
    end = place.end()
    if end == stop < len(text) and not text[stop].isspace() and text[stop] not in _PLACE_STOP:
        # The last word runs past the cut: keep only the whole words before it.
        while end > start and not text[end - 1].isspace():
            end -= 1
        while end > start and text[end - 1].isspace():
            end -= 1
    return end


def _numbers_in_run(text: str, start: int, end: int) -> list[_Span]:
    """Cards, phone numbers and UTRs inside one run of digits, overlaps settled by rank."""
    digit_count = len(_NON_DIGITS.sub("", text[start:end]))
    if digit_count < _FEWEST_DIGITS:
        return []  # a date, a sum of money, a list of small numbers
    cards: list[_Span] = []
    if digit_count >= _FEWEST_CARD_DIGITS:
        cards = [
            (m.start(), m.end(), DataKind.CARD_NUMBER)
            for m in _CARD.finditer(text, start, end)
            if _is_card(m.group())
        ]
    phones = [
        (m.start(), m.end(), DataKind.UK_PHONE)
        for m in _PHONE.finditer(text, start, end)
        if _is_uk_phone(m.group(), international=m.group("intl") is not None)
    ]
    utrs = [
        (m.start(), m.end(), DataKind.UTR)
        for m in _UTR.finditer(text, start, end)
        if _is_utr(text, m.start(), m.end())
    ]
    ranked = [candidates for candidates in (cards, phones, utrs) if candidates]
    return ranked[0] if len(ranked) == 1 else _settle_by_rank(ranked)


def _settle_by_rank(ranked: Iterable[list[_Span]]) -> list[_Span]:
    """Keep every candidate of a higher rank, then those of lower ranks that overlap none
    kept so far. Candidates within one rank never overlap (each came from one scan)."""
    kept: list[_Span] = []
    for candidates in ranked:
        for candidate in candidates:
            at = bisect_left(kept, candidate)
            if at > 0 and kept[at - 1][1] > candidate[0]:
                continue
            if at < len(kept) and kept[at][0] < candidate[1]:
                continue
            kept.insert(at, candidate)
    return kept


def _is_card(number: str) -> bool:
    digits = _NON_DIGITS.sub("", number)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def _is_uk_phone(number: str, *, international: bool) -> bool:
    digits = _NON_DIGITS.sub("", number.replace("(0)", ""))
    if international:
        # "+44" or "0044", then the national number; a stray trunk 0 ("+44 020…") is common.
        national = digits[2:] if number.startswith("+") else digits[4:]
        digits = national if national.startswith("0") else "0" + national
    if len(digits) == 11:
        return digits[1] in _GEOGRAPHIC_MOBILE_OR_NATIONAL or digits.startswith(_FREEPHONE)
    # The one nine-digit range we are sure of: 0800 numbers such as 0800 555 111.
    return len(digits) == 10 and digits.startswith("0800")


def _is_utr(text: str, start: int, end: int) -> bool:
    number = text[start:end]
    if number[-1] in "kK":  # "1234567890K" is how a Self Assessment payment reference ends
        return True
    if _utr_check_digit_valid(_NON_DIGITS.sub("", number)):
        return True
    low = max(0, start - _UTR_CONTEXT_REACH)
    high = min(len(text), end + _UTR_CONTEXT_REACH)
    return _UTR_CONTEXT.search(text, low, high) is not None


def _utr_check_digit_valid(digits: str) -> bool:
    weighted = sum((ord(d) - 48) * w for d, w in zip(digits[1:], _UTR_WEIGHTS, strict=True))
    return digits[0] == _UTR_CHECK_DIGITS[weighted % 11]
