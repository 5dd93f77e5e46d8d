"""Characters an approver cannot see, which would still reach X.

Two kinds, treated differently:

* Control characters (C0, DEL and C1: NUL, ESC, backspace...) are refused outright when a post
  is drafted or edited (`InvalidInput`, naming the part and the position). X has no use for
  them, a terminal showing the post to an approver obeys them (an ESC sequence or a carriage
  return can overwrite what was shown), and the databases disagree about them: PostgreSQL
  refuses NUL in text while SQLite stores it. Tab and line feed are ordinary text, and so is a
  carriage return that ends a line (CR LF, as a browser sends a textarea). A lone surrogate
  (what undecodable bytes become) is refused with them: it is not a character at all.

* Bidirectional controls (U+202A-U+202E, U+2066-U+2069) and zero-width characters (U+200B,
  U+200C, U+200D, U+2060, U+FEFF, U+00AD soft hyphen, U+180E, U+2061-U+2064, tag characters)
  are a policy finding (`text.hidden_characters`, block by default): they are legitimate in
  some places, but elsewhere they make approvers read words in another order than X shows, or
  hide a blocked term from the term rules ("guar<U+200B>anteed"). Not flagged:

  - a zero-width joiner inside an emoji ZWJ sequence (a family, a profession with skin tone)
    or between two emoji, and tag characters inside an emoji tag sequence (the flag of
    Scotland): that is what they are for;
  - a zero-width joiner or non-joiner after a letter or mark of a script that needs them to
    choose a letter's shape (Persian and the other Arabic-script languages, the Indic
    scripts, Sinhala, Myanmar, Khmer, Mongolian...), unless a letter of another script
    follows. The script is read from the Unicode character name ("ARABIC LETTER ...",
    "DEVANAGARI SIGN VIRAMA"), which is what `unicodedata` offers.

  The left-to-right and right-to-left marks (U+200E, U+200F, U+061C) are not flagged: they
  cannot reorder letters, only neutral characters next to them, and mixed-direction text
  needs them.
"""

import unicodedata
from dataclasses import dataclass

from approvals.errors import InvalidInput

LINE_ENDINGS = frozenset("\t\n")
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
ZWNJ, ZWJ = "\u200c", "\u200d"
ZERO_WIDTH = frozenset(
    ["\u00ad", "\u180e", "\u200b", ZWNJ, ZWJ, "\u2060", "\ufeff"]
    + [chr(c) for c in range(0x2061, 0x2065)]
    + [chr(c) for c in range(0xE0000, 0xE0080)]
)
HIDDEN = BIDI_CONTROLS | ZERO_WIDTH
# Scripts whose shaping uses ZWJ/ZWNJ, as the first word of their characters' Unicode names.
JOINING_SCRIPTS = frozenset(
    {
        "ARABIC",
        "SYRIAC",
        "NKO",
        "DEVANAGARI",
        "BENGALI",
        "GURMUKHI",
        "GUJARATI",
        "ORIYA",
        "TAMIL",
        "TELUGU",
        "KANNADA",
        "MALAYALAM",
        "SINHALA",
        "MYANMAR",
        "KHMER",
        "MONGOLIAN",
        "TIBETAN",
    }
)


@dataclass(frozen=True)
class HiddenCharacter:
    position: int  # index into the text (a Python str offset)
    char: str

    @property
    def name(self) -> str:
        return describe(self.char)


def describe(char: str) -> str:
    """`U+200B ZERO WIDTH SPACE`: how a person can find the character in an editor."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def refuse_control_characters(text: str, *, where: str) -> None:
    """`InvalidInput` naming `where` and the (1-based) position of the first control character.
    One pass over the text, so it costs nothing next to the rest of a draft."""
    for index, char in enumerate(text):
        if char in LINE_ENDINGS or (char == "\r" and text[index + 1 : index + 2] == "\n"):
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            raise InvalidInput(
                f"{where}, character {index + 1}: {describe(char)} is a control character, "
                "which cannot be posted; remove it"
            )
        if category == "Cs":
            raise InvalidInput(
                f"{where}, character {index + 1}: {describe(char)} is half of a character "
                "(the text was not valid Unicode); retype it"
            )


def find_hidden(text: str) -> list[HiddenCharacter]:
    """The bidirectional controls and zero-width characters that are not doing their job."""
    if HIDDEN.isdisjoint(text):
        return []
    in_emoji = _emoji_positions(text)
    return [
        HiddenCharacter(index, char)
        for index, char in enumerate(text)
        if char in HIDDEN and not _in_place(text, index, char, in_emoji)
    ]


def _emoji_positions(text: str) -> set[int]:
    import emoji  # loaded only for a text that holds a hidden character

    covered: set[int] = set()
    for found in emoji.emoji_list(text):
        covered.update(range(found["match_start"], found["match_end"]))
    return covered


def _in_place(text: str, index: int, char: str, in_emoji: set[int]) -> bool:
    if index in in_emoji:  # part of one emoji sequence: a ZWJ sequence, a tag sequence
        return True
    if char == ZWJ and index - 1 in in_emoji and index + 1 in in_emoji:
        return True  # joins two emoji that no font draws as one: harmless
    if char in (ZWJ, ZWNJ) and index > 0:
        script = _joining_script(text[index - 1])
        after = text[index + 1 : index + 2]
        follows_other_script = bool(after) and after.isalpha() and _script(after) != script
        return script is not None and not follows_other_script
    return False


def _joining_script(char: str) -> str | None:
    if unicodedata.category(char)[0] not in "LM":
        return None
    script = _script(char)
    return script if script in JOINING_SCRIPTS else None


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


# unicodedata has no names for control characters; these are the ones people meet.
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}
