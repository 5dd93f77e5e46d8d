"""Post templates: the file format, validation, rendering in the sandbox (escapes refused),
and database templates that only managers may change, on SQLite and PostgreSQL."""

import json
from pathlib import Path

import pytest
from sqlmodel import select

from approvals.content import post_templates as pt
from approvals.content.post_templates import TemplateSpec
from approvals.errors import InvalidInput, NotFound, PermissionDenied, Refused
from approvals.models import PostTemplate
from approvals.records.audit import entries_for
from tests.factories import REPO, Org

SHIPPED = REPO / "templates" / "posts"
REMINDER = """{#
description = "Reminder of a deadline"
variables = ["service", "deadline", "url"]
#}
Reminder: the deadline for {{ service }} is {{ deadline }}. Details: {{ url }}
"""
VALUES = {"service": "Self Assessment", "deadline": "31 January", "url": "https://gov.uk/sa"}


def spec(body: str, *variables: str, name: str = "probe") -> TemplateSpec:
    return TemplateSpec(
        name=name, description="test", variables=variables, body=body, source="database"
    )


# --- The file format ----------------------------------------------------------------------


def test_a_file_header_declares_description_and_variables() -> None:
    parsed = pt.parse_template_file(REMINDER, name="reminder")
    assert parsed.description == "Reminder of a deadline"
    assert parsed.variables == ("service", "deadline", "url")
    assert parsed.body.startswith("Reminder: the deadline")
    assert parsed.source == "file"
    assert parsed.first_line == 5


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Reminder: {{ service }}\n", "must start with a {# ... #} header"),
        ('{#\ndescription = "x\nvariables = []\n#}\nbody', "not valid TOML"),
        ('{#\nvariables = ["a"]\n#}\n{{ a }}', "needs description"),
        ('{#\ndescription = "x"\n#}\nbody', "needs variables"),
        ('{#\ndescription = "x"\nvariables = [1]\n#}\nbody', "needs variables"),
        ('{#\ndescription = "x"\nvariables = []\ncolour = "red"\n#}\nbody', "unknown header key"),
        ('{#\ndescription = "x"\nvariables = []\n#}\n   \n', "no body"),
    ],
)
def test_a_missing_or_invalid_header_names_the_file_and_the_problem(
    text: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        pt.parse_template_file(text, name="broken", origin="templates/posts/broken.j2")
    assert "templates/posts/broken.j2" in str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.parametrize("name", ["../etc/passwd", "Capital", "_hidden", "", "a b", "x" * 65])
def test_a_template_name_must_be_a_plain_slug(name: str) -> None:
    with pytest.raises(InvalidInput, match="template name"):
        pt.parse_template_file(REMINDER, name=name)


def test_the_file_form_round_trips() -> None:
    original = TemplateSpec(
        name="tricky",
        description='quote " and #} in it',
        variables=("a",),
        body='Say "{{ a }}" #} done\n---\nSecond.\n',
        source="database",
    )
    again = pt.parse_template_file(pt.format_template_file(original), name="tricky")
    assert again.content_hash == original.content_hash


# --- Validation ---------------------------------------------------------------------------


def test_a_variable_used_but_not_declared_is_refused_at_validation() -> None:
    with pytest.raises(InvalidInput, match=r"does not declare: deadline \(add them"):
        pt.validate(spec("{{ service }} closes {{ deadline }}", "service"))


def test_a_variable_declared_but_never_used_is_refused() -> None:
    with pytest.raises(InvalidInput, match="never uses: url"):
        pt.validate(spec("{{ service }}", "service", "url"))


@pytest.mark.parametrize("variable", ["_secret", "__class__", "loop", "self", "not", "2x", "none"])
def test_odd_variable_names_are_refused(variable: str) -> None:
    with pytest.raises(InvalidInput, match="cannot be a variable name"):
        pt.validate(spec("text", variable))


def test_a_syntax_error_reports_the_line_as_seen_in_the_file() -> None:
    text = REMINDER.replace("Details: {{ url }}", "Details: {{ url }}\n{% if service %}oops")
    with pytest.raises(InvalidInput) as caught:
        pt.validate(pt.parse_template_file(text, name="reminder"))
    message = str(caught.value)
    assert "template 'reminder', line 6:" in message
    assert "endif" in message


def test_including_other_templates_is_refused() -> None:
    with pytest.raises(InvalidInput, match="may not extend, include or import"):
        pt.validate(spec("{% include 'secrets.txt' %}"))


# --- Rendering ----------------------------------------------------------------------------


def test_rendering_fills_in_the_values_as_plain_text() -> None:
    parsed = pt.parse_template_file(REMINDER, name="reminder")
    assert pt.render(parsed, VALUES) == [
        "Reminder: the deadline for Self Assessment is 31 January. Details: https://gov.uk/sa"
    ]


def test_values_are_not_html_escaped_nor_evaluated() -> None:
    parts = pt.render(spec("{{ a }}", "a"), {"a": "Q&A <today> {{ 7*7 }}"})
    assert parts == ["Q&A <today> {{ 7*7 }}"]


def test_a_missing_value_is_named() -> None:
    parsed = pt.parse_template_file(REMINDER, name="reminder")
    with pytest.raises(InvalidInput, match=r"needs a value for: deadline, url"):
        pt.render(parsed, {"service": "Self Assessment"})


def test_an_extra_value_is_refused_and_named() -> None:
    parsed = pt.parse_template_file(REMINDER, name="reminder")
    with pytest.raises(InvalidInput, match=r"has no variable\(s\) colour \(it takes: service"):
        pt.render(parsed, {**VALUES, "colour": "red"})


def test_dashed_lines_split_the_output_into_a_thread_and_empty_parts_are_dropped() -> None:
    body = "First {{ a }}.\n---\n{% if b %}\nOptional {{ b }}.\n{% endif %}\n---\n  Last.  \n"
    template = spec(body, "a", "b")
    assert pt.render(template, {"a": "one", "b": "two"}) == ["First one.", "Optional two.", "Last."]
    assert pt.render(template, {"a": "one", "b": ""}) == ["First one.", "Last."]


def test_a_template_that_renders_to_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="rendered to no text"):
        pt.render(spec("{{ a }}\n---\n", "a"), {"a": "  "})


def test_an_attribute_that_does_not_exist_is_an_input_error_with_its_line() -> None:
    with pytest.raises(InvalidInput, match=r"\(line 2\) uses something undefined: .*no attribute"):
        pt.render(spec("Hello\n{{ a.colour }}", "a"), {"a": "x"})


def test_a_runtime_error_in_the_template_is_an_input_error() -> None:
    with pytest.raises(InvalidInput, match="failed to render: TypeError"):
        pt.render(spec("{{ a + 1 }}", "a"), {"a": "x"})


ESCAPES = [
    ("{{ ''.__class__.__mro__ }}", ()),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", ()),
    ("{{ self._TemplateReference__context }}", ()),
    ("{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}", ()),
    ("{{ cycler.__init__.__globals__ }}", ("cycler",)),
    ("{{ a.__class__.__base__ }}", ("a",)),
    ("{{ a|attr('__class__') }}", ("a",)),
    ("{{ '{0.__class__.__mro__}'.format(a) }}", ("a",)),
    ("{{ [].append(1) }}", ()),
]


@pytest.mark.parametrize(("body", "variables"), ESCAPES)
def test_sandbox_escapes_are_refused_without_leaking_internals(
    body: str, variables: tuple[str, ...]
) -> None:
    template = spec("Harmless start.\n" + body, *variables)
    with pytest.raises(Refused) as caught:
        pt.render(template, dict.fromkeys(variables, "x"))
    message = str(caught.value)
    assert message.startswith("template 'probe' tried something the sandbox forbids (line 2): ")
    assert message.endswith("is unsafe.")
    for internal in ("<class", "<function", "<built-in", "builtins", "0x"):
        assert internal not in message


def test_the_jinja_globals_are_not_reachable_even_undeclared() -> None:
    # `cycler` is a default Jinja global: here it is just an undeclared name.
    with pytest.raises(InvalidInput, match="does not declare: cycler"):
        pt.render(spec("{{ cycler.__init__.__globals__ }}"), {})


@pytest.mark.parametrize("body", ["{{ 'x' * 10**9 }}", "{{ 'x' * 1000000 }}", "{{ 9 ** 99 }}"])
def test_a_runaway_template_is_stopped_before_it_exhausts_memory(body: str) -> None:
    with pytest.raises(Refused, match="sandbox forbids"):
        pt.render(spec(body), {})


def test_a_long_output_built_by_loops_is_stopped() -> None:
    loop = "{% for i in 'abcdefghij' %}"
    body = loop + loop + "{{ 'y' * 500 }}{% endfor %}{% endfor %}"
    with pytest.raises(Refused, match="exceed"):
        pt.render(spec(body), {})


# --- The shipped templates ----------------------------------------------------------------


def shipped_files() -> list[Path]:
    return sorted(SHIPPED.glob("*.j2"))


def test_the_shipped_templates_are_there() -> None:
    assert {p.stem for p in shipped_files()} >= {"deadline_reminder", "consultation_open"}


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.stem)
def test_each_shipped_template_parses_validates_and_renders(path: Path) -> None:
    parsed = pt.parse_template_file(path.read_text(encoding="utf-8"), name=path.stem)
    pt.validate(parsed)
    values = {v: f"<{v}>" for v in parsed.variables}
    parts = pt.render(parsed, values)
    assert all(part and len(part) <= 280 for part in parts)
    rendered = "\n".join(parts)
    assert all(f"<{v}>" in rendered for v in parsed.variables)
    assert "{{" not in rendered and "{#" not in rendered


def test_the_consultation_template_is_a_two_part_thread() -> None:
    path = SHIPPED / "consultation_open.j2"
    parsed = pt.parse_template_file(path.read_text(encoding="utf-8"), name=path.stem)
    values = {
        "topic": "changes to Self Assessment penalties",
        "audience": "taxpayers, agents and software providers",
        "closes": "23 February 2027",
        "url": "https://www.gov.uk/government/consultations/sa-penalties",
    }
    first, second = pt.render(parsed, values)
    assert "changes to Self Assessment penalties" in first
    assert "large print" in second


# --- Database templates -------------------------------------------------------------------


def test_a_database_template_is_found_by_name_and_overrides_a_file(
    org: Org, tmp_path: Path
) -> None:
    (tmp_path / "reminder.j2").write_text(REMINDER, encoding="utf-8")
    assert pt.find_template(org.session, "reminder", tmp_path).source == "file"

    override = spec("Last call for {{ service }}.", "service", name="reminder")
    pt.save_template(
        org.session, actor=org.person("dana@example.org"), spec=override, now=org.clock.now()
    )
    org.session.commit()

    found = pt.find_template(org.session, "reminder", tmp_path)
    assert (found.source, found.body) == ("database", "Last call for {{ service }}.")
    assert pt.render(found, {"service": "VAT"}) == ["Last call for VAT."]
    assert [(s.name, s.source) for s in pt.list_templates(org.session, tmp_path)] == [
        ("reminder", "database")
    ]


def test_an_unknown_template_lists_the_known_ones(org: Org, tmp_path: Path) -> None:
    (tmp_path / "reminder.j2").write_text(REMINDER, encoding="utf-8")
    with pytest.raises(NotFound, match=r"no post template named 'remindr' \(known: reminder\)"):
        pt.find_template(org.session, "remindr", tmp_path)


def test_a_missing_templates_directory_means_no_file_templates(org: Org, tmp_path: Path) -> None:
    assert pt.list_templates(org.session, tmp_path / "absent") == []


def test_saving_a_template_needs_the_manage_right(org: Org) -> None:
    with pytest.raises(PermissionDenied, match=r"alice@example\.org may not manage"):
        pt.save_template(
            org.session,
            actor=org.person("alice@example.org"),
            spec=spec("{{ a }}", "a"),
            now=org.clock.now(),
        )
    assert org.session.exec(select(PostTemplate)).all() == []


def test_saving_is_audited_with_the_content_hash_and_validated_first(org: Org) -> None:
    dana = org.person("dana@example.org")
    with pytest.raises(InvalidInput, match="does not declare"):
        pt.save_template(org.session, actor=dana, spec=spec("{{ b }}", "a"), now=org.clock.now())

    first = spec("Hello {{ a }}", "a")
    row = pt.save_template(org.session, actor=dana, spec=first, now=org.clock.now())
    assert (row.created_by, row.variables) == ("dana@example.org", ["a"])
    pt.save_template(org.session, actor=dana, spec=first, now=org.clock.now())  # unchanged
    second = spec("Goodbye {{ a }}", "a")
    pt.save_template(org.session, actor=dana, spec=second, now=org.clock.now())
    org.session.commit()

    entries = entries_for(org.session, "template:probe")
    assert [(e.action, e.actor) for e in entries] == [
        ("template.save", "dana@example.org"),
        ("template.save", "dana@example.org"),
    ]
    details = [json.loads(e.details) for e in entries]
    assert details[0]["content_hash"] == first.content_hash
    assert details[1] == {
        "name": "probe",
        "content_hash": second.content_hash,
        "previous_hash": first.content_hash,
        "variables": ["a"],
    }


def test_deleting_a_database_template_is_audited_and_needs_manage(org: Org) -> None:
    dana, alice = org.person("dana@example.org"), org.person("alice@example.org")
    pt.save_template(org.session, actor=dana, spec=spec("{{ a }}", "a"), now=org.clock.now())
    with pytest.raises(PermissionDenied):
        pt.delete_template(org.session, actor=alice, name="probe", now=org.clock.now())
    pt.delete_template(org.session, actor=dana, name="probe", now=org.clock.now())
    org.session.commit()
    assert org.session.exec(select(PostTemplate)).all() == []
    assert [e.action for e in entries_for(org.session, "template:probe")][-1] == "template.delete"
    with pytest.raises(NotFound, match="no database template named 'probe'"):
        pt.delete_template(org.session, actor=dana, name="probe", now=org.clock.now())


def test_a_template_file_with_an_unusable_name_is_reported(org: Org, tmp_path: Path) -> None:
    (tmp_path / "Deadline Reminder.j2").write_text(REMINDER, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"Deadline Reminder\.j2: 'Deadline Reminder' is not"):
        pt.list_templates(org.session, tmp_path)
