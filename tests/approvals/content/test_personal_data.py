"""Personal data in a post is flagged precisely: the real thing is found with its exact span,
and the near misses a press officer writes every day (dates, statistics, @mentions, "I'm at
liberty to say") are not."""

import time
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.content.personal_data import (
    ALL_KINDS,
    EXPLANATIONS,
    PRECEDENCE,
    DataKind,
    Match,
    find_personal_data,
    luhn_valid,
)

EMAIL = DataKind.EMAIL
PHONE = DataKind.UK_PHONE
NI = DataKind.NI_NUMBER
UTR = DataKind.UTR
CARD = DataKind.CARD_NUMBER
POSTCODE = DataKind.POSTCODE
WHEREABOUTS = DataKind.WHEREABOUTS
CURLY = "\u2019"  # the right single quotation mark phones type for an apostrophe


def found(text: str) -> list[tuple[DataKind, str]]:
    return [(match.kind, match.text) for match in find_personal_data(text)]


def assert_well_formed(text: str, matches: list[Match]) -> None:
    for match in matches:
        assert 0 <= match.start < match.end <= len(text)
        assert text[match.start : match.end] == match.text
        assert match.explanation == EXPLANATIONS[match.kind]
    for before, after in pairwise(matches):
        assert before.end <= after.start, "matches are sorted and never overlap"


# --- e-mail addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        pytest.param("Write to jo.bloggs@example.co.uk", "jo.bloggs@example.co.uk", id="dots"),
        pytest.param("press+office@dept.gov.uk", "press+office@dept.gov.uk", id="plus-tag"),
        pytest.param("Email: J_Smith99@Example.COM.", "J_Smith99@Example.COM", id="sentence-end"),
        pytest.param("(o'brien@example.org)", "o'brien@example.org", id="apostrophe-in-local"),
        pytest.param("'jo@example.com'", "jo@example.com", id="in-quotes"),
        pytest.param("Email c@d-e.org.uk", "c@d-e.org.uk", id="hyphenated-domain"),
        pytest.param(
            "jo@example.com@example.org", "jo@example.com", id="another-at-straight-after"
        ),
    ],
)
def test_an_email_address_is_found(text: str, address: str) -> None:
    assert found(text) == [(EMAIL, address)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Thanks @DeptNews for the update", id="mention"),
        pytest.param("Thanks@DeptNews", id="mention-glued-to-a-word"),
        pytest.param("ping user@localhost now", id="no-dot-in-domain"),
        pytest.param("jo@example.c", id="one-letter-tld"),
        pytest.param("jo.@example.com", id="local-part-ends-with-dot"),
        pytest.param("jo@@example.com", id="double-at"),
        pytest.param("jo@192.168.0.1", id="numeric-domain"),
    ],
)
def test_what_only_resembles_an_email_address_is_not_flagged(text: str) -> None:
    assert found(text) == []


# --- UK phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        pytest.param("Call 07700 900123 today", "07700 900123", id="mobile"),
        pytest.param("Call 07700900123", "07700900123", id="mobile-unspaced"),
        pytest.param("Call 07700-900-123", "07700-900-123", id="mobile-hyphens"),
        pytest.param("Ring 020 7946 0018.", "020 7946 0018", id="london"),
        pytest.param("Ring (020) 7946 0018", "(020) 7946 0018", id="london-brackets"),
        pytest.param("Ring 0113 496 0000", "0113 496 0000", id="leeds"),
        pytest.param("Ring (0113) 496 0000", "(0113) 496 0000", id="leeds-brackets"),
        pytest.param("Ring +44 20 7946 0018", "+44 20 7946 0018", id="international"),
        pytest.param("Ring +44 (0)20 7946 0018", "+44 (0)20 7946 0018", id="international-(0)"),
        pytest.param("Text +447700900123", "+447700900123", id="international-mobile"),
        pytest.param("Text 0044 7700 900123", "0044 7700 900123", id="00-prefix"),
        pytest.param("Ring 0300 123 4567", "0300 123 4567", id="national-rate-03"),
        pytest.param("Free on 0800 123 4567", "0800 123 4567", id="freephone-0800"),
        pytest.param("Free on 0808 157 0000", "0808 157 0000", id="freephone-0808"),
        pytest.param("Crimestoppers 0800 555 111", "0800 555 111", id="short-0800"),
    ],
)
def test_a_uk_phone_number_is_found(text: str, number: str) -> None:
    assert found(text) == [(PHONE, number)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Ring 0912 345 678", id="ten-digits-wrong-prefix"),
        pytest.param("Ring 0770 090 012", id="mobile-one-digit-short"),
        pytest.param("Premium line 0909 879 0000", id="premium-rate-09"),
        pytest.param("Batch 97700900123 shipped", id="eleven-digits-starting-with-9"),
        pytest.param("Published 2024-01-01", id="iso-date"),
        pytest.param("From 01/02/2024 to 28/02/2024", id="uk-dates"),
        pytest.param("Serial 077009001234", id="inside-a-longer-digit-run"),
        pytest.param("Ring 020 7946", id="too-short"),
        pytest.param("Ref ab07700900123", id="glued-to-letters"),
    ],
)
def test_what_only_resembles_a_phone_number_is_not_flagged(text: str) -> None:
    assert found(text) == []


# --- National Insurance numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        pytest.param("NI: AB 12 34 56 C", "AB 12 34 56 C", id="spaced-pairs"),
        pytest.param("NI: AB123456C", "AB123456C", id="compact"),
        pytest.param("ni: ce123456d", "ce123456d", id="lower-case"),
        pytest.param("NI: AB 123456 C", "AB 123456 C", id="spaced-groups"),
        pytest.param("NI: AB123456, thanks", "AB123456", id="suffix-omitted-own-word"),
        pytest.param("NI AB 12 34 56 a lot", "AB 12 34 56", id="spaced-lower-case-a-is-prose"),
    ],
)
def test_a_national_insurance_number_is_found(text: str, number: str) -> None:
    assert found(text) == [(NI, number)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Case 123456789 closed", id="nine-digits-alone"),
        pytest.param("Example QQ 12 34 56 C", id="hmrc-specimen-prefix-QQ"),
        pytest.param("DA123456C", id="first-letter-D"),
        pytest.param("AO123456C", id="second-letter-O"),
        pytest.param("GB123456A", id="unallocated-GB"),
        pytest.param("TN123456A", id="temporary-TN"),
        pytest.param("ZZ123456A", id="unallocated-ZZ"),
        pytest.param("AB123456E", id="suffix-not-A-to-D"),
        pytest.param("XAB123456C", id="inside-a-longer-code"),
        pytest.param("AB1234567C", id="seven-digits"),
        pytest.param("AB123456C9", id="glued-to-a-digit"),
    ],
)
def test_what_only_resembles_a_national_insurance_number_is_not_flagged(text: str) -> None:
    assert found(text) == []


# --- Unique Taxpayer References ----------------------------------------------------------
# 1955839661 is python-stdnum's example and 3282497350 Sage's worked example of HMRC's
# check digit; 2955839661 and 1234567890 fail it.


@pytest.mark.parametrize(
    ("text", "number"),
    [
        pytest.param("Ref 1955839661", "1955839661", id="check-digit-valid"),
        pytest.param("Ref 3282497350", "3282497350", id="check-digit-valid-sage"),
        pytest.param("Ref 19558 39661", "19558 39661", id="check-digit-valid-spaced"),
        pytest.param("Your UTR is 12345 67890", "12345 67890", id="utr-before"),
        pytest.param("tax reference: 2955839661", "2955839661", id="tax-reference-before"),
        pytest.param(
            "2955839661 is on your Self Assessment letter", "2955839661", id="context-after"
        ),
        pytest.param("Pay with reference 2955839661K", "2955839661K", id="payment-reference-K"),
    ],
)
def test_a_unique_taxpayer_reference_is_found(text: str, number: str) -> None:
    assert found(text) == [(UTR, number)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Order 2955839661 has shipped", id="check-digit-invalid-no-context"),
        pytest.param("Order 1234567890", id="sequence-no-context"),
        pytest.param(
            "Your UTR is on the letter we sent you last spring, not 2955839661",
            id="context-word-too-far",
        ),
        pytest.param("UTR 29558396612", id="eleven-digits"),
        pytest.param("UTR 12345 678901", id="second-group-too-long"),
    ],
)
def test_what_only_resembles_a_unique_taxpayer_reference_is_not_flagged(text: str) -> None:
    assert found(text) == []


# --- bank card numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        pytest.param("Card 4111 1111 1111 1111", "4111 1111 1111 1111", id="visa-spaced"),
        pytest.param("Card 4111-1111-1111-1111", "4111-1111-1111-1111", id="visa-hyphens"),
        pytest.param("Card 4111111111111111", "4111111111111111", id="visa-compact"),
        pytest.param("Card 4222222222222", "4222222222222", id="visa-13-digits"),
        pytest.param("Card 5555 5555 5555 4444", "5555 5555 5555 4444", id="mastercard"),
        pytest.param("Card 2223 0000 4840 0011", "2223 0000 4840 0011", id="mastercard-2-series"),
        pytest.param("Card 3782 822463 10005", "3782 822463 10005", id="amex-4-6-5"),
        pytest.param("Card 6011 1111 1111 1117", "6011 1111 1111 1117", id="discover"),
    ],
)
def test_a_bank_card_number_is_found(text: str, number: str) -> None:
    assert found(text) == [(CARD, number)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Card 4111 1111 1111 1112", id="luhn-invalid"),
        pytest.param("Card 4111111111111112", id="luhn-invalid-compact"),
        pytest.param("Ref 1111 1111 1111 1117", id="luhn-valid-but-starts-with-1"),
        pytest.param("Ref 7111 1111 1111 1114", id="luhn-valid-but-starts-with-7"),
        pytest.param("Ref 9111111111111110", id="luhn-valid-but-starts-with-9"),
        pytest.param("Card 4111 1111 1111", id="twelve-digits"),
    ],
)
def test_what_only_resembles_a_bank_card_number_is_not_flagged(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        pytest.param("4111111111111111", True, id="visa-test-number"),
        pytest.param("4111 1111 1111 1111", True, id="spaces-ignored"),
        pytest.param("4111-1111-1111-1111", True, id="hyphens-ignored"),
        pytest.param("79927398713", True, id="wikipedia-example"),
        pytest.param("4111111111111112", False, id="last-digit-off-by-one"),
        pytest.param("79927398710", False, id="wrong-check-digit"),
        pytest.param("", False, id="empty"),
        pytest.param("4111x1111", False, id="a-letter"),
        pytest.param("٤١١١١١١١١١١١١١١١", False, id="non-ascii-digits"),
    ],
)
def test_luhn_check(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_exactly_one_check_digit_completes_any_number(payload: str) -> None:
    assert sum(luhn_valid(payload + str(digit)) for digit in range(10)) == 1


# --- postcodes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "postcode"),
    [
        pytest.param("Visit M1 1AE", "M1 1AE", id="A9-9AA"),
        pytest.param("Visit B33 8TH", "B33 8TH", id="A99-9AA"),
        pytest.param("Visit CR2 6XH", "CR2 6XH", id="AA9-9AA"),
        pytest.param("Visit DN55 1PT", "DN55 1PT", id="AA99-9AA"),
        pytest.param("Visit W1A 0AX", "W1A 0AX", id="A9A-9AA"),
        pytest.param("Visit EC1A 1BB", "EC1A 1BB", id="AA9A-9AA"),
        pytest.param("Visit SW1A2AA", "SW1A2AA", id="no-space"),
        pytest.param("Visit sw1a 2aa", "sw1a 2aa", id="lower-case"),
        pytest.param("Visit GIR 0AA", "GIR 0AA", id="GIR-0AA"),
        pytest.param("London, SW1A 2AA.", "SW1A 2AA", id="sentence-end"),
    ],
)
def test_a_full_postcode_is_found(text: str, postcode: str) -> None:
    assert found(text) == [(POSTCODE, postcode)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Our SW1A office", id="outward-code-alone"),
        pytest.param("AB1 2CDE", id="inward-code-too-long"),
        pytest.param("Get your kicks on Route 66", id="route-66"),
        pytest.param("Hamilton was F1 2nd", id="lower-case-ordinal"),
        pytest.param("QA1 1AA", id="first-letter-Q"),
        pytest.param("SW1A 1CA", id="inward-letter-C"),
        pytest.param("XSW1A 2AA", id="glued-to-a-letter"),
        pytest.param("Roadworks on the M25 4pm to 6am", id="motorway-and-time"),
    ],
)
def test_what_only_resembles_a_postcode_is_not_flagged(text: str) -> None:
    assert found(text) == []


# --- whereabouts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        pytest.param(
            "I'm at the Leeds office until 5pm.", "I'm at the Leeds office until 5pm", id="im-at"
        ),
        pytest.param(f"I{CURLY}m at Victoria", f"I{CURLY}m at Victoria", id="curly-apostrophe"),
        pytest.param("I am at the conference", "I am at the conference", id="i-am-at"),
        pytest.param("We're at Paddington, come and say hi", "We're at Paddington", id="were-at"),
        pytest.param("we are at the town hall", "we are at the town hall", id="we-are-at"),
        pytest.param(
            "Currently at the Royal Welsh Show",
            "Currently at the Royal Welsh Show",
            id="currently-at",
        ),
        pytest.param("Just arrived in Manchester!", "Just arrived in Manchester", id="arrived-in"),
        pytest.param("just arrived at Heathrow", "just arrived at Heathrow", id="arrived-at"),
        pytest.param("On my way to the ministry", "On my way to the ministry", id="on-my-way"),
        pytest.param("Heading to Cardiff now", "Heading to Cardiff now", id="heading-to"),
        pytest.param("Here at the Senedd today", "Here at the Senedd today", id="here-at"),
        pytest.param("Live from Downing Street", "Live from Downing Street", id="live-from"),
        pytest.param(
            "Checked in at the Grand Hotel, Brighton",
            "Checked in at the Grand Hotel",
            id="checked-in-at",
        ),
        pytest.param("Sharing my location", "my location", id="my-location"),
        pytest.param("At home alone tonight", "At home alone tonight", id="at-home-alone"),
        pytest.param("Away until 3 January", "Away until 3 January", id="away-until"),
        pytest.param(
            "On holiday until Monday, back Tuesday",
            "On holiday until Monday",
            id="on-holiday-until",
        ),
        pytest.param("I'M AT THE OFFICE", "I'M AT THE OFFICE", id="capitals"),
        pytest.param("I'm at the office\nCall me", "I'm at the office", id="stops-at-line-end"),
        pytest.param(
            "I'm at the very long named International Conference Centre of Excellence",
            "I'm at the very long named International",
            id="place-cut-at-a-whole-word-within-40-characters",
        ),
    ],
)
def test_a_whereabouts_phrase_is_found_with_the_place_after_it(text: str, phrase: str) -> None:
    assert found(text) == [(WHEREABOUTS, phrase)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("That's more than I'm at liberty to say", id="at-liberty"),
        pytest.param("I'm at least as keen", id="at-least"),
        pytest.param("We're at risk of missing it", id="at-risk"),
        pytest.param("I'm at the moment unsure", id="at-the-moment"),
        pytest.param("We're here at last", id="here-at-last"),
        pytest.param("That's where I'm at.", id="nothing-after-at"),
        pytest.param("Inflation is currently at 3.2%", id="currently-at-a-percentage"),
        pytest.param("Unemployment is currently at a record low", id="currently-at-a-record"),
        pytest.param("Debt heading to £2bn", id="heading-to-a-sum"),
        pytest.param("We are heading towards the end", id="heading-towards"),
        pytest.param("We're at the forefront of tackling fraud", id="at-the-forefront-of"),
        pytest.param("We are at the heart of government", id="at-the-heart-of"),
        pytest.param("We're at an early stage", id="at-an-early-stage"),
        pytest.param("Live from 9am on our channel", id="live-from-a-time"),
        pytest.param("Working at home today", id="at-home-without-alone"),
        pytest.param("Somewhere at the back", id="here-inside-a-word"),
        pytest.param("Live fromage tasting", id="from-inside-a-word"),
    ],
)
def test_what_only_resembles_whereabouts_is_not_flagged(text: str) -> None:
    assert found(text) == []


# --- several kinds together --------------------------------------------------------------


def test_a_place_that_is_a_postcode_is_reported_as_the_postcode() -> None:
    assert found("I'm at SW1A 2AA now") == [(WHEREABOUTS, "I'm at"), (POSTCODE, "SW1A 2AA")]


def test_the_place_words_stop_where_a_phone_number_begins() -> None:
    assert found("I'm at reception 020 7946 0018") == [
        (WHEREABOUTS, "I'm at reception"),
        (PHONE, "020 7946 0018"),
    ]


def test_an_email_address_is_taken_whole_even_when_it_holds_a_phone_number() -> None:
    assert found("07700900123@example.com") == [(EMAIL, "07700900123@example.com")]


def test_an_email_address_is_taken_whole_even_when_its_domain_looks_like_a_postcode() -> None:
    assert found("jo@sw1a2aa.example.com") == [(EMAIL, "jo@sw1a2aa.example.com")]


def test_a_card_number_wins_over_a_phone_number_it_overlaps() -> None:
    assert found("020 4111 1111 1111 1111") == [(CARD, "4111 1111 1111 1111")]


def test_a_phone_number_wins_over_a_utr_it_overlaps() -> None:
    # A UTR never starts with 0 (no check digit is 0), so only a context word makes the clash.
    assert found("UTR 0800100010") == [(PHONE, "0800100010")]


POST = (
    "Press office: press.office@example.gov.uk or 020 7946 0018. "
    "I'm at the Leeds office until 5pm; NI AB 12 34 56 C, card 4111 1111 1111 1111, "
    "SW1A 2AA, UTR 12345 67890. Published 2024-01-01, up 3.2%."
)


def test_a_post_with_every_kind_yields_each_once_in_order() -> None:
    assert found(POST) == [
        (EMAIL, "press.office@example.gov.uk"),
        (PHONE, "020 7946 0018"),
        (WHEREABOUTS, "I'm at the Leeds office until 5pm"),
        (NI, "AB 12 34 56 C"),
        (CARD, "4111 1111 1111 1111"),
        (POSTCODE, "SW1A 2AA"),
        (UTR, "12345 67890"),
    ]


def test_each_span_is_the_exact_slice_of_the_text() -> None:
    matches = find_personal_data(POST)
    assert matches
    assert_well_formed(POST, matches)


def test_spans_are_python_string_indices_even_after_emoji() -> None:
    text = "🎉🇬🇧 Call 020 7946 0018"
    [match] = find_personal_data(text)
    assert (match.start, match.end) == (9, 22)  # 🎉 is one code point, 🇬🇧 two
    assert text[match.start : match.end] == "020 7946 0018"


def test_kinds_filters_the_result() -> None:
    assert [m.kind for m in find_personal_data(POST, kinds={EMAIL, POSTCODE})] == [
        EMAIL,
        POSTCODE,
    ]
    assert find_personal_data(POST, kinds=[]) == []
    assert find_personal_data(POST, kinds=ALL_KINDS) == find_personal_data(POST)


def test_text_without_personal_data_yields_nothing() -> None:
    assert find_personal_data("") == []
    assert found("Our annual report is out: 1.2 million people helped in 2024-25.") == []


def test_every_kind_has_a_one_sentence_explanation_and_a_place_in_the_precedence() -> None:
    assert sorted(PRECEDENCE) == sorted(DataKind)
    for kind in DataKind:
        sentence = EXPLANATIONS[kind]
        assert sentence.endswith(".") and sentence.count(". ") == 0
        assert sentence[0].isupper()
    assert EXPLANATIONS[NI] == "Looks like a National Insurance number; never post one."


# --- robustness --------------------------------------------------------------------------

FRAGMENTS = [
    "I'm at ", f"we{CURLY}re at ", "heading to ", "at home alone", "my location", "liberty", "the ",
    "office", "@", ".", "jo", "example.com", "+44 ", "(0)", "(020) ", "020 ", "7946 ", "0018",
    "07700", "900123", "0800 ", "4111 ", "1111 ", "1117", "AB", "12 ", "34 ", "56", " C", "K",
    "SW1A", " 2AA", "GIR 0AA", "UTR ", "19558", "39661", "2024-01-01", "\n", ", ", " ", "-",
    "é", "🎉", "٣",
]  # fmt: skip


@settings(max_examples=300)
@given(st.text())
def test_any_text_gives_well_formed_matches(text: str) -> None:
    assert_well_formed(text, find_personal_data(text))


@settings(max_examples=500)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_text_dense_with_near_misses_gives_well_formed_matches(text: str) -> None:
    assert_well_formed(text, find_personal_data(text))


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
    st.sets(st.sampled_from(list(DataKind))),
)
def test_asking_for_fewer_kinds_only_filters(text: str, kinds: set[DataKind]) -> None:
    everything = find_personal_data(text)
    assert find_personal_data(text, kinds) == [m for m in everything if m.kind in kinds]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1 " * 50_000, id="long-spaced-number-run"),
        pytest.param("0" * 100_000, id="long-digit-run"),
        pytest.param("(0)" * 30_000, id="long-bracket-run"),
        pytest.param("a" * 100_000 + "@example.com", id="long-local-part"),
        pytest.param("x@" + "a." * 50_000, id="long-domain"),
        pytest.param("@" * 100_000, id="many-ats"),
        pytest.param("a@" * 50_000, id="many-short-ats"),
        pytest.param("I'm" + " " * 100_000 + "at", id="long-gap-in-a-phrase"),
        pytest.param("I'm at " * 20_000, id="many-phrases"),
        pytest.param("AB 12 34 56 " * 10_000, id="many-ni-lookalikes"),
    ],
)
def test_adversarial_text_is_read_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    find_personal_data(text)
    assert time.perf_counter() - started < 2.0
