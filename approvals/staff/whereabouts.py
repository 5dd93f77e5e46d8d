"""Whereabouts in free-written personal posts, for the staff self-check.

The corporate policy's detector (`approvals.content.personal_data`) looks for a few trigger phrases
("I'm at", "away until"). People write where they are in many more ways: a venue and its
street, "currently sitting in", "here at", a check-in pin, a time with a place. This reads
each sentence for two things together:
- a place: a capitalised name after at / in / on / by / near / outside / from / to
  ("at Franco's", "in Hyde Park", "on the M25"), a street, station or venue name ("Jermyn
  Street", "Heathrow Terminal 5"), or a common spot ("the gym", "A&E", "platform 9");
- a cue that it is the writer's place now or soon: being somewhere ("sitting", "stuck",
  "staying", "just landed", "checked in", "meet me", "off to") or a time ("tonight",
  "until Sunday", "at 1pm", "8.05").
A place alone ("the best chips are in Whitby") or a cue alone ("heading to bed") is not
flagged; a check-in pin is, on its own. Measured against tests/data/whereabouts.csv.

Only the self-check uses it: it is advice to staff about their own posts, where a missed
warning matters more than a needless one; the corporate policy keeps its narrower rule.
Every pattern is bounded, so the time stays linear in the length of the text.
"""

import re
from dataclasses import dataclass

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?](?=\d)[^.!?\n]*)*[.!?]*")
_PIN = re.compile("\N{ROUND PUSHPIN}|\N{WORLD MAP}")
_CAPITAL_WORD = r"(?:[A-Z][\w'\u2019&-]{0,30}|A&E|M\d{1,3})"
_NAME = rf"{_CAPITAL_WORD}(?:[ ](?:{_CAPITAL_WORD}|and|on|upon|\d{{1,4}})){{0,5}}"
# "at Franco's", "in the Royal Albert Hall", "on the M25", "In Manchester", "at 100 Parliament"
_NAMED_PLACE = re.compile(
    rf"(?<!\w)(?:[Aa]t|[Ii]n|[Oo]n|[Bb]y|[Nn]ear|[Oo]utside|[Ff]rom|[Tt]o|[Ii]nto)"
    rf"[ ](?:the[ ])?(?:\d{{1,4}}[ ])?(?P<name>{_NAME})"
)
_STREET = re.compile(
    rf"(?<!\w){_CAPITAL_WORD}(?:[ ]{_CAPITAL_WORD}){{0,3}}[ ]"
    r"(?:Street|St|Road|Rd|Lane|Avenue|Square|Place|Row|Hill|Gardens|Market|Park|Station|"
    r"Terminal|Hospital|Stadium|Pier|Bridge|Green|Common|Wharf|Close|Crescent|Terrace)\b"
)
_SPOT = re.compile(
    r"(?<!\w)(?:the[ ])?(?:gym|dentist|doctor['\u2019]?s|hospital|pub|caf[eé]|beach|airport|"
    r"garage|library|cinema|pool|A&E|(?:stall|platform|ward|gate|mile|terminal|carriage|"
    r"junction)[ ]\w{1,3})\b",
    re.IGNORECASE,
)
# Words that look like a place after a preposition but are not one.
_NOT_PLACES = frozenset(
    {
        "I",
        "I'm",
        "My",
        "Our",
        "The",
        "This",
        "That",
        "It",
        "We",
        "You",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Christmas",
        "Easter",
    }
)
_CUE = re.compile(
    r"(?<!\w)(?:"
    r"currently|sitting|sat|stuck|queu(?:e)?ing|waiting|staying|spending|enjoying"
    r"|working[ ]from|having[ ](?:lunch|dinner|breakfast|brunch|coffee|drinks|a[ ]pint)"
    r"|lunch[ ]with|grabbing|doing|visiting|picking|dropping|still[ ](?:at|in)"
    r"|back[ ](?:at|in)|here[ ](?:at|in)|just[ ](?:landed|arrived|checked)"
    r"|checked[ ]in|checking[ ]in|off[ ]to|heading[ ](?:to|for)|on[ ](?:my|our)[ ]way"
    r"|meet[ ]me|find[ ]me|see[ ]you|say[ ]hi|live[ ]from|cheering"
    r"|i['\u2019]m[ ](?:at|in)|we['\u2019]re[ ](?:at|in)|we['\u2019]ve[ ]just|empty"
    r"|tonight|today|tomorrow|this[ ](?:morning|afternoon|evening|weekend|week)"
    r"|next[ ]week|right[ ]now|all[ ](?:morning|afternoon|day)|until|till"
    r"|\d{1,2}(?:[:.]\d{2})?[ ]?(?:am|pm)|\d{1,2}[:.]\d{2}"
    r")(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Place:
    """A sentence that says where its writer is: `start`/`end` cover the place named."""

    start: int
    end: int
    text: str


def find_whereabouts(text: str) -> list[Place]:
    """The places in `text` said to be where the writer is (or will be), one per sentence."""
    found: list[Place] = []
    for sentence in _SENTENCE.finditer(text):
        body, offset = sentence.group(), sentence.start()
        pin = _PIN.search(body)
        if pin:
            end = len(body.rstrip(".!? "))
            found.append(Place(offset + pin.start(), offset + end, body[pin.start() : end]))
            continue
        place = _place(body)
        if place is not None and _CUE.search(body):
            start, end = place
            found.append(Place(offset + start, offset + end, body[start:end]))
    return found


def _place(sentence: str) -> tuple[int, int] | None:
    """The first place named in the sentence, as (start, end), if any."""
    spans: list[tuple[int, int]] = []
    for match in _NAMED_PLACE.finditer(sentence):
        if match.group("name").split(" ")[0] not in _NOT_PLACES:
            spans.append(match.span())
    spans += [m.span() for m in _STREET.finditer(sentence)]
    spans += [m.span() for m in _SPOT.finditer(sentence)]
    return min(spans) if spans else None
