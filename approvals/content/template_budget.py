"""What a post template's render may spend, and how big each step would make its values.

`template_sandbox` calls in here before each operation that can grow text or a list: the size
checks refuse the step before it allocates anything, `charge` counts what a render builds in
all, and `tick` stops a render at its deadline. The budget lives in a context variable, so
renders in different threads never share one.
"""

import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedFormatter

MAX_OUTPUT = 20_000
MAX_VALUE = 100_000  # the most text one value (a string, a list as printed) may stand for
MAX_BUILT = 1_000_000  # all the text one render may make, kept or not
MAX_INT_BITS = 256
RENDER_SECONDS = 1.0


class RenderTooSlow(Exception):
    """The render passed its deadline; `post_templates` names the template."""


@dataclass
class _Budget:
    deadline: float
    built: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderTooSlow(f"longer than {RENDER_SECONDS:g} s")

    def charge(self, size: int) -> None:
        self.built += size
        if self.built > MAX_BUILT:
            raise SecurityError(f"the template builds more than {MAX_BUILT:,} characters of text")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def budget() -> Iterator[None]:
    """One render's budget, from now until the block ends."""
    token = _budget.set(_Budget(deadline=time.monotonic() + RENDER_SECONDS))
    try:
        yield
    finally:
        _budget.reset(token)


def tick() -> None:
    spent = _budget.get()
    if spent is not None:  # None while Jinja folds constants at compile time
        spent.tick()


def charge(size: int) -> None:
    """Count `size` characters against the render's `MAX_BUILT`."""
    spent = _budget.get()
    if spent is not None:
        spent.charge(size)


def charge_for(value: object) -> None:
    spent = _budget.get()
    if spent is not None:
        spent.charge(text_size(value, MAX_BUILT - spent.built + 1))


def refuse_over(size: int, what: str, limit: int = MAX_VALUE) -> None:
    if size > limit:
        raise SecurityError(f"{what} would make more than {limit:,} characters")


# --- how big a value is as text -------------------------------------------------------------
def text_size(value: object, limit: int = MAX_VALUE) -> int:
    """An upper bound on `len(str(value))` that stops counting once past `limit`, so measuring
    a list of a thousand long strings costs no more than the first few."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bytes | bytearray):
        return 4 * len(value) + 3
    if isinstance(value, Mapping | Collection):
        return _container_size(value, limit, depth=0)
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return limit + 1
    return len(str(value))  # numbers, None, Jinja's own objects: short


def _container_size(value: Collection[Any], limit: int, depth: int) -> int:
    if depth > 50:
        raise SecurityError("the template nests lists more than 50 deep")
    size = 2
    items: Iterable[Any] = (
        (item for pair in value.items() for item in pair) if isinstance(value, Mapping) else value
    )
    for item in items:
        if isinstance(item, str):
            size += _repr_size(item) + 2
        elif isinstance(item, Mapping | Collection) and not isinstance(item, bytes | bytearray):
            size += _container_size(item, limit - size, depth + 1) + 2
        else:
            size += text_size(item, limit - size) + 2
        if size > limit:
            break
    return size


def _repr_size(text: str) -> int:
    """`len(repr(text))`, without making the repr when it is plainly the text in quotes."""
    if "\\" not in text and text.isprintable():
        return len(text) + 2 + text.count("'")
    return len(repr(text))


# --- operators -------------------------------------------------------------------------------
_PRINTF = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?[hlL]?[a-zA-Z%]"
)


def _check_repeat(left: object, right: object) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError(f"numbers past {MAX_INT_BITS} bits are not available")
        return
    for seq, count in ((left, right), (right, left)):
        if isinstance(count, int) and isinstance(seq, str | bytes | list | tuple) and count > 0:
            refuse_over(text_size(seq) * count, "repetition")


def _check_printf(template: object, args: object) -> None:
    """`'%999999999s' % x` pads before anyone sees it: the widths count, and `*` is refused."""
    if not isinstance(template, str | bytes):
        return
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    padding = 0
    for conversion in _PRINTF.finditer(text):
        for number in conversion.group("width", "precision"):
            if number == "*":
                raise SecurityError("'*' widths are not available in post templates")
            padding += int(number or 0)
    refuse_over(len(text) + padding + text_size(args), "formatting")


def _check_sum(left: object, right: object) -> None:
    if isinstance(left, str | bytes | list | tuple) and isinstance(
        right, str | bytes | list | tuple
    ):
        refuse_over(text_size(left) + text_size(right), "joining")


BINOP_CHECKS: dict[str, Callable[[object, object], None]] = {
    "*": _check_repeat,
    "+": _check_sum,
    "%": _check_printf,
}


# --- string methods --------------------------------------------------------------------------
def _arg(
    args: Sequence[Any], kwargs: Mapping[str, Any], index: int, name: str, default: Any
) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def check_str_method(
    receiver: str | bytes, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Refuse a string method whose result would be too large; the arguments to call it with
    (an iterator given to `join` is measured, so it is handed on as a list)."""
    if name in {"ljust", "rjust", "center", "zfill"}:
        width = _arg(args, kwargs, 0, "width", 0)
        if isinstance(width, int):
            refuse_over(width, f"{name}()")
    elif name == "expandtabs":
        tabsize = _arg(args, kwargs, 0, "tabsize", 8)
        tabs = receiver.count("\t") if isinstance(receiver, str) else receiver.count(b"\t")
        if isinstance(tabsize, int):
            refuse_over(len(receiver) + tabs * max(tabsize, 0), "expandtabs()")
    elif name == "replace":
        old, new = _arg(args, kwargs, 0, "old", ""), _arg(args, kwargs, 1, "new", "")
        count = _arg(args, kwargs, 2, "count", -1)
        if isinstance(old, str | bytes) and isinstance(new, str | bytes):
            found = receiver.count(old) if old else len(receiver) + 1  # type: ignore[arg-type]
            if isinstance(count, int) and count >= 0:
                found = min(found, count)
            refuse_over(len(receiver) + found * max(len(new) - len(old), 0), "replace()")
    elif name == "join" and args:
        items = list(_counted_items(args[0]))
        size = sum(text_size(item) for item in items) + len(receiver) * max(len(items) - 1, 0)
        refuse_over(size, "join()")
        return (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((text_size(v) for v in args[0].values()), default=1)
        refuse_over(len(receiver) * max(longest, 1), "translate()")
    return args


def _counted_items(iterable: Iterable[Any]) -> Iterator[Any]:
    for count, item in enumerate(iterable, start=1):
        if count > MAX_VALUE:
            raise SecurityError(f"more than {MAX_VALUE:,} items")
        tick()
        yield item


class BoundedFormatter(SandboxedFormatter):
    """`str.format` with each field's width and the whole result held to `MAX_VALUE`."""

    made = 0

    def vformat(self, format_string: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        self.made = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        refuse_over(text_size(value), "format()")  # before `!r` makes a repr of it
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        widths = [int(n) for n in re.findall(r"\d+", format_spec)]
        self.made += text_size(value) + max(widths, default=0)
        refuse_over(self.made, "format()")
        return super().format_field(value, format_spec)


# --- filters ---------------------------------------------------------------------------------
# A filter's own arguments (the value first; the context Jinja passes some filters stripped),
# checked; a check may hand back the arguments to call the filter with instead.
_FilterCheck = Callable[[Sequence[Any], Mapping[str, Any]], Sequence[Any] | None]


def _filter_size_checks() -> dict[str, _FilterCheck]:
    """For each filter that can grow text, what it would make. The value of a text filter has
    been measured already (`_TEXT_FILTERS`), so turning it into text here is bounded."""

    def center(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        width = _arg(args, kwargs, 1, "width", 80)
        if isinstance(width, int):
            refuse_over(max(width, text_size(args[0])), "center")

    def indent(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        value, width = args[0], _arg(args, kwargs, 1, "width", 4)
        step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        lines = str(value).count("\n") + 1
        refuse_over(text_size(value) + lines * max(step, 0), "indent")

    def wordwrap(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        value, width = args[0], _arg(args, kwargs, 1, "width", 79)
        wrapstring = _arg(args, kwargs, 3, "wrapstring", None) or "\n"
        size = text_size(value)
        breaks = (
            size // max(width, 1) + str(value).count("\n") + 1 if isinstance(width, int) else size
        )
        refuse_over(size + breaks * text_size(wrapstring), "wordwrap")

    def format_(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        _check_printf(args[0], kwargs or tuple(args[1:]))

    def join(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Sequence[Any]:
        """A generator (`select`, `map`) is measured too, so it is handed on as a list."""
        items = args[0] if isinstance(args[0], Collection) else list(_counted_items(args[0]))
        separator = _arg(args, kwargs, 1, "d", "")
        size = sum(text_size(item) for item in items)
        refuse_over(size + text_size(separator) * max(len(items) - 1, 0), "join")
        return (items, *args[1:])

    def replace(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        value = str(args[0])
        rest = tuple(args[1:])
        check_str_method(value, "replace", rest, dict(kwargs))

    def batch(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        for count in (_arg(args, kwargs, 1, "linecount", 0), _arg(args, kwargs, 1, "slices", 0)):
            if isinstance(count, int):
                refuse_over(count, "batch or slice")

    return {
        "center": center,
        "indent": indent,
        "wordwrap": wordwrap,
        "format": format_,
        "join": join,
        "replace": replace,
        "batch": batch,
        "slice": batch,
    }


# Filters that make text of their value: the value is measured before it is turned into text.
_TEXT_FILTERS = frozenset(
    {
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "replace",
        "safe",
        "string",
        "striptags",
        "sum",
        "title",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "wordcount",
        "wordwrap",
    }
)


def bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    check = _FILTER_CHECKS.get(name)
    takes_context = getattr(function, "jinja_pass_arg", None) is not None

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        tick()
        context, own = (args[:1], args[1:]) if takes_context else ((), args)
        if own and name in _TEXT_FILTERS:
            refuse_over(text_size(own[0]), name)
        if own and check is not None:
            own = tuple(check(own, kwargs) or own)
        result = function(*context, *own, **kwargs)
        charge_for(result)
        return result

    return bounded


_FILTER_CHECKS = _filter_size_checks()
