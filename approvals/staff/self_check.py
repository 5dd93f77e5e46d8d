"""The self-check of a personal post against the guidance (`approvals.staff.guidance`).

Personal accounts are outside what pressgate governs (it never connects to them), so all it
can do for them is help people notice a slip before they post. That is why the self-check is
advisory (every finding is a warning), stores nothing and imports nothing that publishes: it
is a mirror, not a gate. It lives apart from the guidance text and its published versions
because it reads and writes no table: it needs only the draft and the map in force.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from approvals.config import PressgateConfig
from approvals.content.findings import Finding
from approvals.content.personal_data import EXPLANATIONS, DataKind, find_personal_data
from approvals.staff.whereabouts import find_whereabouts

SPEAKS_FOR = "guidance.speaks_for_department"
LOGO = "guidance.logo"
WHEREABOUTS = "personal_data.whereabouts"


# "Brand new" is not a brand.
_LOGO_WORD = r"(?:logos?|branding|brand(?![ -]+new\b)|crests?|emblems?|insignia|letterheads?)"
# Said right before a logo word, these make it the organisation's: "our (new) logo".
_POSSESSIVE = r"(?:our|my[ ]+employer['\u2019]s)[ ]+(?:\w+[ ]+)?"
_DEPARTMENT_WORDS = (
    r"department(?:al)?|dept|ministry|government|govt|civil[ ]+service|employer|corporate"
    r"|official"
)
_IMAGE_WORDS = r"image|photo|picture|pic|graphic|alt[ ]+text|screenshot|png|jpe?g|gif|svg|webp"
_SPEAKS_FOR_PHRASES = (
    r"on[ ]+behalf[ ]+of(?![ ]+(?:myself|me)\b)",
    r"speak(?:s|ing)?[ ]+for(?![ ]+(?:myself|me)\b)",
    r"as[ ]+(?:a[ ]+|the[ ]+)?spokes(?:person|man|woman)",
    r"spokes(?:person|man|woman)[ ]+for",
    r"our[ ]+(?:department|dept|ministry|agency)",
)
_REACH = 60  # characters either side of a logo word in which a cue counts, same sentence
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
# What may stand between a cue and a logo word for both to make one excerpt: "department
# crest", "Department's logo", "crest.png".
_ADJACENT = re.compile(r"(?:['\u2019]s)?[^\w\n]{0,3}")


@dataclass(frozen=True)
class _Hit:
    rule: str
    start: int
    end: int
    explanation: str


@dataclass(frozen=True)
class _Patterns:
    # Phrases, the organisation's name, official terms: one pattern each, so that a longer
    # term is found even where a shorter one matches at the same place.
    speaks_for: tuple[re.Pattern[str], ...]
    official_logo_terms: re.Pattern[str] | None  # official terms that name a logo or brand
    handles: re.Pattern[str] | None
    logo_word: re.Pattern[str]
    possessive_logo: re.Pattern[str]
    department_cue: re.Pattern[str]
    image_cue: re.Pattern[str]


def _phrase(words: str) -> str:
    """A configured term as a pattern: whole words, any run of spaces between them."""
    return r"[ \t]+".join(re.escape(w) for w in words.split())


def _alternation(alternatives: Iterable[str]) -> str:
    return "(?<!\\w)(?:" + "|".join(alternatives) + ")(?!\\w)"


@lru_cache(maxsize=8)
def _patterns(organisation: str, terms: tuple[str, ...], handles: tuple[str, ...]) -> _Patterns:
    flags = re.IGNORECASE
    is_logo_term = re.compile(_alternation([_LOGO_WORD]), flags).search
    logo_terms = [_phrase(t) for t in terms if t.strip() and is_logo_term(t)]
    speaks_terms = [_phrase(t) for t in terms if t.strip() and not is_logo_term(t)]
    # "the department store" is shopping, not the department.
    name = [_phrase(organisation) + r"(?![ ]+stores?\b)"] if organisation.strip() else []
    # A corporate handle with or without its "@": "DeptNews" names the account too.
    handle_names = [re.escape(h.lstrip("@")) for h in handles]
    return _Patterns(
        speaks_for=tuple(
            re.compile(_alternation([p]), flags)
            for p in [*_SPEAKS_FOR_PHRASES, *name, *speaks_terms]
        ),
        official_logo_terms=re.compile(_alternation(logo_terms), flags) if logo_terms else None,
        handles=(
            re.compile("(?<![\\w@])@(?:" + "|".join(handle_names) + ")(?!\\w)", flags)
            if handle_names
            else None
        ),
        logo_word=re.compile(_alternation([_LOGO_WORD]), flags),
        possessive_logo=re.compile(_alternation([_POSSESSIVE + _LOGO_WORD]), flags),
        department_cue=re.compile(
            _alternation([_DEPARTMENT_WORDS, *name, "@?(?:" + "|".join(handle_names) + ")"])
            if handle_names
            else _alternation([_DEPARTMENT_WORDS, *name]),
            flags,
        ),
        image_cue=re.compile(_alternation([_IMAGE_WORDS]), flags),
    )


def self_check(text: str, config: PressgateConfig) -> list[Finding]:
    """Check a draft of a personal post against the guidance; every finding is a warning.

    Personal data and whereabouts use the same detectors as the corporate policy; the
    guidance rules add "speaks for the department" (phrases, the organisation's name, the
    configured official terms, mentions of the corporate accounts) and "uses the logo" (a
    logo word next to the organisation, its accounts or an image). Matching is by whole
    words, case-insensitively. The draft is neither stored nor logged.
    """
    guidance = config.guidance
    org = guidance.organisation
    handles = tuple(a.handle for a in config.accounts if a.kind == "corporate")
    patterns = _patterns(org, tuple(guidance.official_terms), handles)

    findings = [
        Finding(f"personal_data.{m.kind.value}", "warn", 0, m.start, m.end, m.text, m.explanation)
        for m in find_personal_data(text)
    ]
    findings += _free_whereabouts(text, findings)
    speaks = (
        f"Reads as speaking for {org}; on a personal account speak only for yourself "
        f"and leave {org}'s voice to its corporate accounts."
    )
    hits = [
        _Hit(SPEAKS_FOR, *m.span(), speaks)
        for pattern in patterns.speaks_for
        for m in pattern.finditer(text)
    ]
    if patterns.handles is not None:
        hits += [
            _Hit(
                SPEAKS_FOR,
                *m.span(),
                f"Mentions {org}'s corporate account {m.group()}: sharing is fine, but make "
                f"clear you are writing for yourself, not for {org}.",
            )
            for m in patterns.handles.finditer(text)
        ]
    hits += _logo_hits(text, patterns, org)
    for group in _merged(text, hits):
        first = group[0]
        start, end = first.start, max(h.end for h in group)
        findings.append(
            Finding(first.rule, "warn", 0, start, end, text[start:end], first.explanation)
        )
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule))


def _free_whereabouts(text: str, found: list[Finding]) -> list[Finding]:
    """Whereabouts written freely (`approvals.staff.whereabouts`), where no finding stands yet."""
    taken = [(f.start, f.end) for f in found]
    return [
        Finding(WHEREABOUTS, "warn", 0, p.start, p.end, p.text, EXPLANATIONS[DataKind.WHEREABOUTS])
        for p in find_whereabouts(text)
        if not any(s < p.end and p.start < e for s, e in taken)
    ]


def _logo_hits(text: str, patterns: _Patterns, org: str) -> list[_Hit]:
    explanation = (
        f"Mentions a logo or brand together with {org}; never use {org}'s logo or "
        "branding on a personal account."
    )
    hits = [_Hit(LOGO, *m.span(), explanation) for m in patterns.possessive_logo.finditer(text)]
    if patterns.official_logo_terms is not None:
        hits += [
            _Hit(LOGO, *m.span(), explanation) for m in patterns.official_logo_terms.finditer(text)
        ]
    for word in patterns.logo_word.finditer(text):
        low, high = _sentence_window(text, word.start(), word.end())
        cues = [
            cue
            for pattern in (patterns.department_cue, patterns.image_cue)
            for cue in pattern.finditer(text, low, high)
        ]
        if cues:
            nearest = min(
                cues, key=lambda c: min(abs(c.start() - word.end()), abs(word.start() - c.end()))
            )
            start, end = min(nearest.start(), word.start()), max(nearest.end(), word.end())
            gap = text[min(nearest.end(), word.end()) : max(nearest.start(), word.start())]
            if not _ADJACENT.fullmatch(gap):  # a cue further off: point at the word alone
                start, end = word.span()
            hits.append(_Hit(LOGO, start, end, explanation))
    return hits


def _sentence_window(text: str, start: int, end: int) -> tuple[int, int]:
    low, high = max(0, start - _REACH), min(len(text), end + _REACH)
    for stop in _SENTENCE_END.finditer(text, low, start):
        low = stop.end()
    after = _SENTENCE_END.search(text, end, high)
    return low, after.start() if after else high


def _merged(text: str, hits: list[_Hit]) -> list[list[_Hit]]:
    """Hits of one rule that overlap or only have spaces between them, grouped: "speaking for"
    and "the department" side by side are one thing to fix, so one finding."""
    groups: list[list[_Hit]] = []
    end = 0
    for hit in sorted(hits, key=lambda h: (h.rule, h.start, -h.end)):
        last = groups[-1] if groups else None
        if last and last[0].rule == hit.rule and not text[end : hit.start].strip(" \t"):
            last.append(hit)
            end = max(end, hit.end)
        else:
            groups.append([hit])
            end = hit.end
    return groups
