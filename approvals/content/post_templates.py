"""Post templates: reusable posts (a deadline reminder, a consultation opening) with declared
variables, kept as files under `templates/posts/` and in the database.

A template is code someone else wrote, so it runs in Jinja2's immutable sandbox with
`StrictUndefined`: an attribute walk towards Python's internals (`''.__class__.__mro__`)
is refused rather than rendered, and a misspelt variable stops the render instead of
silently posting an empty gap to a corporate account. The sandbox is bounded in memory and
time as well (`template_sandbox`): a render cannot take more than a second or build more
than a few megabytes. X posts are plain text, not HTML,
so nothing is autoescaped: `&` must reach X as `&`, not `&amp;`.

A database template overrides a file template of the same name. Saving one needs the
global `manage` right and is audited, so the override is governed; it lets the strategy
lead adapt shipped wording without a release, and `source` shows which one is in use.
"""

import hashlib
import json
import keyword
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from sqlmodel import Session, col, select

from approvals.config import Action
from approvals.content.template_budget import MAX_OUTPUT, RENDER_SECONDS, RenderTooSlow
from approvals.content.template_sandbox import PostSandbox, render_bounded
from approvals.errors import InvalidInput, NotFound, Refused
from approvals.map_store import current_map
from approvals.models import Person, PostTemplate
from approvals.records import audit
from approvals.records.audit import canonical_json
from approvals.threads import split_thread as split_thread  # re-exported

Source = Literal["file", "database"]
SUFFIX = ".j2"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
MAX_BODY = 50_000  # characters of template source; the shipped ones are a few hundred
# Names Jinja gives a meaning of its own: a variable called `loop` would be shadowed.
RESERVED = frozenset({"self", "loop", "super", "caller", "varargs", "kwargs"})
_OTHER_TEMPLATES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
HEADER = re.compile(r"\A\s*\{#-?(?P<toml>.*?)-?#\}[ \t]*(?:\r?\n)?", re.DOTALL)


_ENV = PostSandbox(
    autoescape=False,
    keep_trailing_newline=False,
    # `{% if %}` on a line of its own leaves no blank line behind in a plain-text post.
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    description: str
    variables: tuple[str, ...]
    body: str
    source: Source
    # Line of the file where `body` starts, so errors point at the line a person sees.
    first_line: int = 1

    @property
    def content_hash(self) -> str:
        document = {
            "name": self.name,
            "description": self.description,
            "variables": list(self.variables),
            "body": self.body,
        }
        return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def check_name(name: str) -> str:
    """Names become file names, so anything but a plain slug (say `../x`) is refused."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            f"template name {name!r} is not valid: use lower-case letters, digits, '_' or '-', "
            "starting with a letter (at most 64)"
        )
    return name


def parse_template_file(
    text: str, *, name: str, origin: str | None = None, source: Source = "file"
) -> TemplateSpec:
    """Read the file format: a Jinja comment holding TOML (`description`, `variables`), then
    the body. The header is a comment so the file is still a plain Jinja template."""
    where = origin or f"template {name!r}"
    check_name(name)
    match = HEADER.match(text)
    if match is None:
        raise InvalidInput(
            f"{where}: the file must start with a {{# ... #}} header holding "
            'description = "..." and variables = [...]'
        )
    try:
        header = tomllib.loads(match["toml"])
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{where}: the header is not valid TOML ({exc})") from None
    unknown = sorted(set(header) - {"description", "variables"})
    if unknown:
        raise InvalidInput(f"{where}: unknown header key(s): {', '.join(unknown)}")
    description = header.get("description")
    if not isinstance(description, str) or not description.strip():
        raise InvalidInput(f'{where}: the header needs description = "what the post is for"')
    variables = header.get("variables")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise InvalidInput(f'{where}: the header needs variables = ["name", ...] (strings)')
    body = text[match.end() :]
    if not body.strip():
        raise InvalidInput(f"{where}: the template has no body after its header")
    return TemplateSpec(
        name=name,
        description=description.strip(),
        variables=tuple(variables),
        body=body,
        source=source,
        first_line=match.group(0).count("\n") + 1,
    )


def format_template_file(spec: TemplateSpec) -> str:
    """The file form of a template, so `templates show` output can be edited and re-added."""

    def toml_string(value: str) -> str:
        # A JSON string is a valid TOML basic string; `#}` would end the comment early.
        return json.dumps(value, ensure_ascii=False).replace("#}", "#\\u007d")

    names = ", ".join(toml_string(v) for v in spec.variables)
    return (
        f"{{#\ndescription = {toml_string(spec.description)}\nvariables = [{names}]\n#}}\n"
        + spec.body
    )


def validate(spec: TemplateSpec) -> None:
    """Refuse a template before anyone relies on it: bad syntax, variables used but not
    declared (or declared but never used: every value asked for must matter), odd names."""
    check_name(spec.name)
    if len(spec.body) > MAX_BODY:
        raise InvalidInput(
            f"template {spec.name!r} is {len(spec.body):,} characters long; "
            f"at most {MAX_BODY:,} are accepted"
        )
    seen: set[str] = set()
    for variable in spec.variables:
        if (
            not variable.isidentifier()
            or variable.startswith("_")
            or keyword.iskeyword(variable)
            or variable in RESERVED
            or variable.lower() in {"true", "false", "none"}
        ):
            raise InvalidInput(
                f"template {spec.name!r}: {variable!r} cannot be a variable name "
                "(use letters, digits and '_', not starting with '_' nor a reserved word)"
            )
        if variable in seen:
            raise InvalidInput(f"template {spec.name!r} declares {variable!r} twice")
        seen.add(variable)
    try:
        tree = _ENV.parse(spec.body)
        _ENV.compile(tree)
    except TemplateSyntaxError as exc:
        line = (exc.lineno or 1) + spec.first_line - 1
        raise InvalidInput(f"template {spec.name!r}, line {line}: {exc.message}") from None
    if any(True for _ in tree.find_all(_OTHER_TEMPLATES)):
        # There is no loader, so these could only fail later and less clearly.
        raise InvalidInput(f"template {spec.name!r} may not extend, include or import templates")
    used = meta.find_undeclared_variables(tree)
    undeclared = sorted(used - seen)
    if undeclared:
        raise InvalidInput(
            f"template {spec.name!r} uses variable(s) it does not declare: "
            f"{', '.join(undeclared)} (add them to `variables` in its header)"
        )
    unused = sorted(seen - used)
    if unused:
        raise InvalidInput(
            f"template {spec.name!r} declares variable(s) it never uses: {', '.join(unused)}"
        )


@lru_cache(maxsize=64)
def _validated(spec: TemplateSpec) -> None:
    """`validate`, once per template version: compiling costs milliseconds, and a bulk import
    renders one template hundreds of times (a refusal raises, so it is never cached)."""
    validate(spec)


def render(spec: TemplateSpec, values: Mapping[str, str]) -> list[str]:
    """The thread's parts, split on lines of exactly `---` like a thread file. A part that
    renders empty is dropped, so a template can make a part optional."""
    _validated(spec)
    missing = [v for v in spec.variables if v not in values]
    if missing:
        raise InvalidInput(
            f"template {spec.name!r} needs a value for: {', '.join(missing)} "
            "(give each with --var name=value)"
        )
    extra = sorted(set(values) - set(spec.variables))
    if extra:
        known = ", ".join(spec.variables) or "none"
        raise InvalidInput(
            f"template {spec.name!r} has no variable(s) {', '.join(extra)} (it takes: {known})"
        )
    for variable, value in values.items():
        if len(str(value)) > MAX_OUTPUT:
            raise InvalidInput(
                f"template {spec.name!r}: the value of {variable} is longer than a template's "
                f"whole output may be ({MAX_OUTPUT:,} characters)"
            )
    try:
        text = render_bounded(_ENV, spec.body, {k: str(v) for k, v in values.items()})
    except RenderTooSlow:
        raise Refused(
            f"template {spec.name!r} took longer than {RENDER_SECONDS:g} s to render; "
            "simplify its loops"
        ) from None
    except SecurityError as exc:
        raise Refused(
            f"template {spec.name!r} tried something the sandbox forbids{_line_of(exc, spec)}: "
            f"{exc}"
        ) from None
    except UndefinedError as exc:
        raise InvalidInput(
            f"template {spec.name!r}{_line_of(exc, spec)} uses something undefined: {exc}"
        ) from None
    except Exception as exc:  # anything else is the template's own fault: `{{ a + 1 }}`
        raise InvalidInput(
            f"template {spec.name!r}{_line_of(exc, spec)} failed to render: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    parts = [part.strip() for part in split_thread(text)]
    parts = [part for part in parts if part]
    if not parts:
        raise InvalidInput(f"template {spec.name!r} rendered to no text with those values")
    return parts


def _line_of(exc: BaseException, spec: TemplateSpec) -> str:
    """Jinja rewrites tracebacks so template frames carry template line numbers."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return "" if line is None else f" (line {line + spec.first_line - 1})"


def spec_of(row: PostTemplate) -> TemplateSpec:
    return TemplateSpec(
        name=row.name,
        description=row.description or "",
        variables=tuple(row.variables),
        body=row.body,
        source="database",
    )


def _file_template(directory: Path, name: str) -> TemplateSpec | None:
    path = directory / f"{check_name(name)}{SUFFIX}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from None
    return parse_template_file(text, name=name, origin=str(path))


def _file_names(directory: Path) -> list[str]:
    """No directory means no file templates (an installation may keep them all in the
    database); a file with an unusable name is reported rather than silently skipped."""
    if not directory.is_dir():
        return []
    names = [path.stem for path in sorted(directory.glob(f"*{SUFFIX}"))]
    for name in names:
        if not NAME_PATTERN.fullmatch(name):
            raise InvalidInput(f"{directory / (name + SUFFIX)}: {name!r} is not a template name")
    return names


def _database_row(session: Session, name: str) -> PostTemplate | None:
    return session.exec(select(PostTemplate).where(PostTemplate.name == name)).first()


def list_templates(session: Session, directory: Path) -> list[TemplateSpec]:
    """Every template by name; a database template hides a file one of the same name."""
    found: dict[str, TemplateSpec] = {}
    for name in _file_names(directory):
        spec = _file_template(directory, name)
        if spec is not None:
            found[name] = spec
    for row in session.exec(select(PostTemplate).order_by(col(PostTemplate.name))).all():
        found[row.name] = spec_of(row)
    return [found[name] for name in sorted(found)]


def find_template(session: Session, name: str, directory: Path) -> TemplateSpec:
    check_name(name)
    row = _database_row(session, name)
    if row is not None:
        return spec_of(row)
    spec = _file_template(directory, name)
    if spec is not None:
        return spec
    known = ", ".join(s.name for s in list_templates(session, directory)) or "none yet"
    raise NotFound(f"no post template named {name!r} (known: {known})")


def render_template(
    session: Session, *, name: str, values: Mapping[str, str], directory: Path
) -> list[str]:
    return render(find_template(session, name, directory), values)


def save_template(
    session: Session, *, actor: Person, spec: TemplateSpec, now: datetime
) -> PostTemplate:
    """Create or replace the database template `spec.name`. Templates put words in the
    department's mouth, so only someone who may manage every account may change them."""
    current_map(session).require(actor.email, Action.MANAGE)
    validate(spec)
    row = _database_row(session, spec.name)
    previous = spec_of(row).content_hash if row is not None else None
    if row is not None and previous == spec.content_hash:
        return row  # nothing changed, nothing to audit
    if row is None:
        row = PostTemplate(name=spec.name, body=spec.body, created_by=actor.email, updated_at=now)
    row.description, row.variables, row.body = spec.description, list(spec.variables), spec.body
    row.updated_at = now
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.email,
        action="template.save",
        subject=f"template:{spec.name}",
        at=now,
        details={
            "name": spec.name,
            "content_hash": spec.content_hash,
            "previous_hash": previous,
            "variables": list(spec.variables),
        },
    )
    return row


def delete_template(session: Session, *, actor: Person, name: str, now: datetime) -> None:
    """Remove a database template; a file template of the same name, if any, shows again."""
    current_map(session).require(actor.email, Action.MANAGE)
    row = _database_row(session, check_name(name))
    if row is None:
        raise NotFound(f"no database template named {name!r} (file templates live on disk)")
    content_hash = spec_of(row).content_hash
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor.email,
        action="template.delete",
        subject=f"template:{name}",
        at=now,
        details={"name": name, "content_hash": content_hash},
    )
