"""Post templates: reusable posts (a deadline reminder, a consultation opening) with declared
variables, kept as files under `templates/posts/` and in the database.

A template is code someone else wrote, so it runs in Jinja2's immutable sandbox with
`StrictUndefined`: an attribute walk towards Python's internals (`''.__class__.__mro__`)
is refused rather than rendered, and a misspelt variable stops the render instead of
silently posting an empty gap to a corporate account. X posts are plain text, not HTML,
so nothing is autoescaped: `&` must reach X as `&`, not `&amp;`.

A database template overrides a file template of the same name. Saving one needs the
global `manage` right and is audited, so the override is governed; it lets the strategy
lead adapt shipped wording without a release, and `source` shows which one is in use.
"""

import hashlib
import json
import keyword
import operator
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlmodel import Session, col, select

from approvals import audit
from approvals.audit import canonical_json
from approvals.config import Action
from approvals.errors import InvalidInput, NotFound, Refused
from approvals.map_store import current_map
from approvals.models import Person, PostTemplate

Source = Literal["file", "database"]
SUFFIX = ".j2"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# A whole thread of 25 full posts fits well inside this; more is a runaway template.
MAX_OUTPUT = 20_000
# Names Jinja gives a meaning of its own: a variable called `loop` would be shadowed.
RESERVED = frozenset({"self", "loop", "super", "caller", "varargs", "kwargs"})
_OTHER_TEMPLATES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
HEADER = re.compile(r"\A\s*\{#-?(?P<toml>.*?)-?#\}[ \t]*(?:\r?\n)?", re.DOTALL)


class _PostSandbox(ImmutableSandboxedEnvironment):
    """The sandbox stops escapes but not exhaustion: `'x' * 10**9` is legal Jinja. Post
    templates need no arithmetic, so repetition is bounded and powers are refused."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            raise SecurityError("the power operator is not available in post templates")
        for seq, count in ((left, right), (right, left)):
            sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
            if sized and len(seq) * count > MAX_OUTPUT:
                raise SecurityError(f"repetition would exceed {MAX_OUTPUT} characters")
        return operator.mul(left, right)


_ENV = _PostSandbox(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    # `{% if %}` on a line of its own leaves no blank line behind in a plain-text post.
    trim_blocks=True,
    lstrip_blocks=True,
)
# Only declared variables are reachable (`validate` sees to it); with no globals either,
# `cycler`, `range` and friends are no foothold.
_ENV.globals.clear()


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
    try:
        text = _render_bounded(spec, {k: str(v) for k, v in values.items()})
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


def _render_bounded(spec: TemplateSpec, values: dict[str, str]) -> str:
    chunks: list[str] = []
    size = 0
    for chunk in _ENV.from_string(spec.body).generate(values):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the output would exceed {MAX_OUTPUT} characters")
        chunks.append(chunk)
    return "".join(chunks)


def _line_of(exc: BaseException, spec: TemplateSpec) -> str:
    """Jinja rewrites tracebacks so template frames carry template line numbers."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return "" if line is None else f" (line {line + spec.first_line - 1})"


def split_thread(raw: str) -> list[str]:
    """A thread file holds its parts separated by lines of exactly '---'."""
    parts: list[list[str]] = [[]]
    for line in raw.splitlines():
        if line.strip() == "---":
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(lines).strip("\n") for lines in parts]


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
