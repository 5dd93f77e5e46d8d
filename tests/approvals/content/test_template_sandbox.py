"""Post templates render bounded in memory and in time: each way a template can ask for
hundreds of megabytes or minutes of CPU is refused before it allocates, quickly, with the
template named; ordinary templates are untouched."""

import threading
import time

import pytest

from approvals.content import post_templates as pt
from approvals.content.post_templates import TemplateSpec
from approvals.content.template_budget import MAX_OUTPUT, RENDER_SECONDS
from approvals.errors import InvalidInput, Refused
from tests.measure import measured

LONG = "a" * MAX_OUTPUT  # the longest value a template may be given


def spec(body: str, *variables: str, name: str = "probe") -> TemplateSpec:
    return TemplateSpec(
        name=name, description="test", variables=variables, body=body, source="database"
    )


# Each asked for hundreds of megabytes before (x.ljust took 500 MB); all are refused at once.
MEMORY_ATTACKS = [
    "{{ x.ljust(500000000) }}",
    "{{ x.center(500000000) }}",
    "{{ x.zfill(500000000) }}",
    "{{ x|center(500000000) }}",
    "{{ x|indent(500000000) }}",
    "{{ x|wordwrap(1, wrapstring=x) }}",
    "{{ x * 100000 }}",
    "{{ ([x] * 100000)|join }}",
    "{{ x ~ x ~ x ~ x ~ x ~ x }}",
    "{{ x + x + x + x + x + x }}",
    "{{ '%999999999s' % x }}",
    "{{ '%*s' % (999999999, x) }}",
    "{{ '%999999999s'|format(x) }}",
    "{{ '{:>999999999}'.format(x) }}",
    "{{ ('{0}' * 6000).format(x) }}",
    "{{ '{0:{1}}'.format(x, 999999999) }}",
    "{{ x.replace('a', x) }}",
    "{{ x.join(x) }}",
    "{{ x.translate({97: x}) }}",
    "{{ (x[:1] ~ '\t' * 20000).expandtabs(100000) }}",
    "{{ x|batch(1000000000, 'z')|list }}",
    "{{ [x, x, x, x, x, x] }}",
    "{{ [x, x, x, x, x, x]|select|join }}",
    "{{ [x, x, x, x, x, x]|indent(1) }}",
    "{{ '{0!r}'.format([x, x, x, x, x, x]) }}",
    "{% set y %}{% for a in x %}{{ x }}{% endfor %}{% endset %}{{ y|length }}",
    "{% macro m() %}{% for a in x %}{{ x }}{% endfor %}{% endmacro %}{{ m()|length }}",
    "{{ x|list|map('center', 20000)|list|length }}",
    "{{ x[:1] }}{{ 9 ** 9 ** 9 }}",
    "{{ x[:1] }}{% set n = 99999999999999999999 %}{{ n * n * n * n * n * n * n * n * n * n }}",
]


@pytest.mark.parametrize("body", MEMORY_ATTACKS)
def test_a_template_asking_for_too_much_memory_is_refused_before_it_allocates(body: str) -> None:
    with measured() as spent, pytest.raises(Refused) as caught:
        pt.render(spec(body, "x"), {"x": LONG})
    assert str(caught.value).startswith("template 'probe' tried something the sandbox forbids")
    assert spent.cpu_seconds < 0.5
    assert spent.peak_bytes < 8_000_000, f"{spent.peak_bytes:,} bytes allocated"


TIME_ATTACKS = [
    "{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}",  # 36 s of CPU before
    "{% for a in x %}{% for b in x %}{% for c in x %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in x %}{% for b in x %}{{ '' }}{% endfor %}{% endfor %}",
    "{% set y %}{% for a in x %}{% for b in x %}{{ '' }}{% endfor %}{% endfor %}{% endset %}",
    # Two calls a level, forty levels: no loop at all, 2**40 calls.
    "{% macro f(d) %}{% if d|length < 40 %}{{ f(d ~ 'a') }}{{ f(d ~ 'b') }}{% endif %}"
    "{% endmacro %}{{ f(x[:1]) }}",
]


@pytest.mark.parametrize("body", TIME_ATTACKS)
def test_a_template_that_would_run_for_minutes_stops_after_a_second(body: str) -> None:
    with measured() as spent, pytest.raises(Refused) as caught:
        pt.render(spec(body, "x"), {"x": LONG})
    assert str(caught.value) == (
        f"template 'probe' took longer than {RENDER_SECONDS:g} s to render; simplify its loops"
    )
    assert RENDER_SECONDS <= spent.seconds < RENDER_SECONDS + 1.5
    assert spent.peak_bytes < 8_000_000


def test_after_a_render_runs_out_of_time_the_next_one_has_its_own_budget() -> None:
    with pytest.raises(Refused, match="took longer"):
        pt.render(spec(TIME_ATTACKS[0], "x"), {"x": LONG})
    assert pt.render(spec("Hello {{ x }}", "x"), {"x": "you"}) == ["Hello you"]


def test_renders_in_other_threads_keep_their_own_deadline() -> None:
    """A slow render in one thread does not make a quick one in another fail, or wait."""
    slow_outcome: list[str] = []

    def slow() -> None:
        try:
            pt.render(spec(TIME_ATTACKS[0], "x"), {"x": LONG})
        except Refused as error:
            slow_outcome.append(str(error))

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert pt.render(spec("{% for c in x %}{{ c }}{% endfor %}", "x"), {"x": "abc"}) == ["abc"]
    assert time.monotonic() - started < 0.5
    thread.join()
    assert slow_outcome and "took longer" in slow_outcome[0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("|{{ x|center(9) }}|", "|   abc   |"),
        ("{{ x.ljust(5, '.') }}{{ x.rjust(5) }}", "abc..  abc"),
        ("[{{ '{:>6}'.format(x) }}] {{ '%-5s|' % x }}", "[   abc] abc  |"),
        ("{{ (x ~ ',' ~ x).split(',')|join(' & ') }}", "abc & abc"),
        ("{{ x.replace('b', 'BB') }} {{ x * 3 }} {{ [x] + ['d'] }}", "aBBc abcabcabc ['abc', 'd']"),
        ("{% for c in x %}{{ loop.index }}{{ c }}{% endfor %}", "1a2b3c"),
        ("{% set y %}<{{ x }}>{% endset %}{{ y }}{{ y|length }}", "<abc>5"),
        ("{% macro m(v) %}[{{ v|upper }}]{% endmacro %}{{ m(x) }}", "[ABC]"),
        ("{{ x|wordwrap(2, break_long_words=True) }}", "ab\nc"),
        ("{{ x|list|map('upper')|join }}", "ABC"),
    ],
)
def test_ordinary_templates_render_as_before(body: str, expected: str) -> None:
    assert pt.render(spec(body, "x"), {"x": "abc"}) == [expected]


def test_a_value_longer_than_a_whole_output_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        pt.render(spec("{{ x[:10] }}", "x"), {"x": "a" * (MAX_OUTPUT + 1)})
    assert str(caught.value) == (
        "template 'probe': the value of x is longer than a template's whole output may be "
        "(20,000 characters)"
    )


def test_a_template_body_past_the_limit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is 50,001 characters long; at most 50,000"):
        pt.validate(spec("a" * (pt.MAX_BODY + 1)))


@pytest.mark.parametrize("name", ["tojson", "pprint", "urlize", "xmlattr"])
def test_the_html_and_debugging_filters_are_not_available(name: str) -> None:
    with pytest.raises(InvalidInput, match=f"No filter named '{name}'"):
        pt.validate(spec(f"{{{{ x|{name} }}}}", "x"))
