"""The content policy: what the tool itself catches before a tired officer or approver does.

`check()` is the one entry point for every caller: the CLI (`pressgate check`), submit and
the publish gate (blocking findings stop both, via `posts.policy_report`), the approver's
view (warnings), and the web page's live check. It is pure: no database, no I/O. Rules and
their severities come from the `[policy]` section of the map in force, so a rule added today
also stops a post approved yesterday from going out.
"""

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from approvals.content import twitter_text
from approvals.content.findings import Finding
from approvals.content.hidden_text import find_hidden
from approvals.content.personal_data import find_personal_data
from approvals.content.policy_config import PolicyConfig, PolicySource, UtmConfig

TEXT_CONFIGS = {2: twitter_text.CONFIG_V2, 3: twitter_text.CONFIG_V3}


@dataclass(frozen=True)
class PartToCheck:
    text: str
    alt_texts: tuple[str | None, ...] = ()  # one entry per attached image


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    lengths: list[int]  # weighted length of each part
    max_length: int
    parts: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocking]


def check(
    parts: Sequence[PartToCheck | str],
    *,
    policy: PolicyConfig | None = None,
    personal_handles: Collection[str] = (),
) -> Report:
    """Run every rule over every part of a post or thread.

    `personal_handles` are staff's personal accounts from the map (with or without "@"):
    the corporate voice must never point at them.
    """
    policy = policy or PolicyConfig()
    rules = _Rules.of(policy, frozenset(h.lstrip("@").lower() for h in personal_handles))
    config = TEXT_CONFIGS[policy.text_version]
    findings: list[Finding] = []
    lengths: list[int] = []
    texts: list[str] = []
    for index, raw in enumerate(parts):
        part = PartToCheck(raw) if isinstance(raw, str) else raw
        texts.append(part.text)
        parsed = twitter_text.parse(part.text, config)
        lengths.append(parsed.weighted_length)
        findings.extend(rules.part(index, part, parsed, config.max_weighted_length))
    return Report(findings, lengths, config.max_weighted_length, texts)


def check_config(parts: Sequence[PartToCheck | str], config: PolicySource) -> Report:
    """`check()` with the policy and the personal handles of a map."""
    return check(parts, policy=config.policy, personal_handles=personal_handles(config))


def personal_handles(config: PolicySource) -> list[str]:
    """Staff's personal accounts: the handles people list as theirs, and personal accounts."""
    handles = [h for p in config.people for h in p.personal_handles]
    return handles + [a.handle for a in config.accounts if a.kind == "personal"]


def describe(finding: Finding) -> str:
    where = f"part {finding.part + 1}: " if finding.part else ""
    return f"{where}{finding.explanation} ({finding.rule}: {finding.excerpt!r})"


def tag_links(text: str, utm: UtmConfig) -> str:
    """Add campaign tags to every link that has none, so analytics can attribute visits."""
    pieces: list[str] = []
    last = 0
    for url in twitter_text.extract_urls(text):
        pieces.append(text[last : url.start])
        pieces.append(_with_utm(url.url, utm))
        last = url.end
    pieces.append(text[last:])
    return "".join(pieces)


def _with_utm(url: str, utm: UtmConfig) -> str:
    has_scheme = "://" in url
    parts = urlsplit(url if has_scheme else "https://" + url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.startswith("utm_") for k, _ in query):
        return url
    query += [
        ("utm_source", utm.source),
        ("utm_medium", utm.medium),
        ("utm_campaign", utm.campaign),
    ]
    tagged = urlunsplit(parts._replace(query=urlencode(query), path=parts.path or "/"))
    return tagged if has_scheme else tagged.removeprefix("https://")


# --- the rules ----------------------------------------------------------------------------
_EXPLAIN = {
    "length": "Too long for X: {excerpt}.",
    "text.invalid": "X would refuse this text (empty, or it holds characters X does not allow).",
    "text.hidden_characters": "Invisible characters ({excerpt}) can make approvers read other "
    "words, or another order, than X will show; remove them.",
    "terms.blocked": "This term must not be used in the department's posts.",
    "terms.warn": "This term needs care; check it is what you mean.",
    "links.blocked_domain": "Links to this site are not allowed.",
    "links.not_allowed": "Only links to approved sites may be posted.",
    "links.shortener": "Link shorteners hide where a link goes; use the full address.",
    "media.alt_text": "Every image needs alt text, so everyone can follow the post.",
    "mentions.personal_handle": "This is a member of staff's personal account; the department "
    "does not mention or tag it.",
    "limits.hashtags": "More hashtags than the policy allows ({limit}).",
    "limits.mentions": "More mentions than the policy allows ({limit}).",
}


@lru_cache(maxsize=64)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Compiled once per list of terms, not once per keystroke of a live check."""
    words = [r"\s+".join(map(re.escape, t.split())) for t in terms if t.strip()]
    if not words:
        return None
    words.sort(key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)", re.IGNORECASE)


def _domain_of(url: str) -> str:
    host = urlsplit(url if "://" in url else "https://" + url).hostname or ""
    return host.lower().removeprefix("www.")


def _within(domain: str, listed: Collection[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in listed)


@dataclass
class _PartCheck:
    """The findings for one part; `add` applies the configured severity (or drops the rule)."""

    policy: PolicyConfig
    index: int
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, start: int, end: int, excerpt: str, why: str = "") -> None:
        severity = self.policy.severity(rule)
        if severity == "off":
            return
        explanation = why or _EXPLAIN[rule].format(excerpt=excerpt, limit=_limit(rule, self.policy))
        self.findings.append(Finding(rule, severity, self.index, start, end, excerpt, explanation))


@dataclass(frozen=True)
class _Rules:
    policy: PolicyConfig
    handles: frozenset[str]
    blocked: re.Pattern[str] | None
    warned: re.Pattern[str] | None

    @staticmethod
    def of(policy: PolicyConfig, handles: frozenset[str]) -> "_Rules":
        blocked = _terms_pattern(tuple(policy.blocked_terms))
        return _Rules(policy, handles, blocked, _terms_pattern(tuple(policy.warn_terms)))

    def part(
        self, index: int, part: PartToCheck, parsed: twitter_text.ParseResult, limit: int
    ) -> list[Finding]:
        found = _PartCheck(self.policy, index)
        text = part.text
        media_only = not text.strip() and bool(part.alt_texts)
        if parsed.weighted_length > limit:
            found.add("length", 0, len(text), f"{parsed.weighted_length} of {limit} characters")
        elif not parsed.valid and not media_only:
            found.add("text.invalid", 0, len(text), text[:40])
        for start, end, names in _hidden_runs(text):
            found.add("text.hidden_characters", start, end, names)
        for data in find_personal_data(text):
            rule = f"personal_data.{data.kind.value}"
            found.add(rule, data.start, data.end, data.text, data.explanation)
        for pattern, rule in ((self.blocked, "terms.blocked"), (self.warned, "terms.warn")):
            for term in pattern.finditer(text) if pattern else ():
                found.add(rule, term.start(), term.end(), term.group())
        self._links(found, text)
        for number, alt in enumerate(part.alt_texts, start=1):
            if not (alt or "").strip():
                found.add("media.alt_text", 0, 0, f"image {number}")
        self._mentions(found, text)
        return sorted(found.findings, key=lambda f: (f.start, f.end, f.rule))

    def _links(self, found: _PartCheck, text: str) -> None:
        for url in twitter_text.extract_urls(text):
            domain = _domain_of(url.url)
            if _within(domain, self.policy.link_block):
                found.add("links.blocked_domain", url.start, url.end, url.url)
            elif _within(domain, self.policy.shorteners):
                found.add("links.shortener", url.start, url.end, url.url)
            elif self.policy.link_allow and not _within(domain, self.policy.link_allow):
                found.add("links.not_allowed", url.start, url.end, url.url)

    def _mentions(self, found: _PartCheck, text: str) -> None:
        mentions = twitter_text.extract_mentions(text)
        tags = twitter_text.extract_hashtags(text)
        named = [(m.username, m.start, m.end) for m in mentions]
        named += [(t.tag, t.start, t.end) for t in tags]
        for name, start, end in named:
            if name.lower() in self.handles:
                found.add("mentions.personal_handle", start, end, text[start:end])
        limits = (
            ("limits.hashtags", [(t.start, t.end) for t in tags], self.policy.max_hashtags),
            ("limits.mentions", [(m.start, m.end) for m in mentions], self.policy.max_mentions),
        )
        for rule, spans, allowed in limits:
            if len(spans) > allowed:
                noun = rule.split(".")[1]
                found.add(rule, spans[allowed][0], spans[-1][1], f"{len(spans)} {noun}")


def _hidden_runs(text: str) -> list[tuple[int, int, str]]:
    """Adjacent hidden characters make one finding, named by the characters it holds."""
    runs: list[tuple[int, int, list[str]]] = []
    for hidden in find_hidden(text):
        if runs and runs[-1][1] == hidden.position:
            start, _, names = runs[-1]
            runs[-1] = (start, hidden.position + 1, names)
        else:
            runs.append((hidden.position, hidden.position + 1, []))
        if hidden.name not in runs[-1][2]:
            runs[-1][2].append(hidden.name)
    return [(start, end, ", ".join(names)) for start, end, names in runs]


def _limit(rule: str, policy: PolicyConfig) -> int | str:
    return {"limits.hashtags": policy.max_hashtags, "limits.mentions": policy.max_mentions}.get(
        rule, ""
    )
