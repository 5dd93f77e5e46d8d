"""The sandbox post templates render in: no escape, and no exhaustion either.

Jinja2's immutable sandbox stops a template from reaching Python's internals, but not from
asking for 500 MB (`{{ x.ljust(500000000) }}`) or for minutes of CPU (loops nested over a
long value). A template is code someone else wrote, so every render here is bounded:

* Memory. Every operation that can make text or a list larger than its inputs is checked
  *before* it runs, against the size of what it would make: the `*`, `+` and `%` operators
  (`intercepted_binops`), the string methods that pad, repeat, replace or join (`call`),
  `str.format` (`wrap_str_format`), `~` and every `{{ }}` output (the code generator and
  `finalize`), the buffers that collect a macro's, a `{% set %}` block's or a filter block's
  output, and the filters that pad, wrap, indent, format, join or batch. No single value may
  stand for more than `MAX_VALUE` characters, no block may collect more than `MAX_OUTPUT`,
  and a render may build no more than `MAX_BUILT` characters in all, so a map over a long
  list cannot add up what no single step exceeds. A value a template cannot use in a post
  (`**`, integers past `MAX_INT_BITS` bits) is refused, and the HTML-only filters are gone.

* Time. Every loop iteration, call, operator, filter and output checks a deadline of
  `RENDER_SECONDS`. The check is compiled into the template (the code generator wraps each
  `for` loop's iterable) rather than done by `sys.settrace`, which would slow every line,
  fight with debuggers and coverage, and see nothing inside a C call; or by a watchdog
  thread or `SIGALRM`, which cannot stop a thread in Python, or only the main one. Between
  two checks there is at most one bounded operation (on at most `MAX_VALUE` characters), so
  a render stops within milliseconds of its deadline.

The budget lives in a context variable, so renders in different threads do not share it.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import update_wrapper
from types import BuiltinMethodType
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from approvals.content.template_budget import (
    BINOP_CHECKS,
    MAX_OUTPUT,
    BoundedFormatter,
    bounded_filter,
    budget,
    charge,
    charge_for,
    check_str_method,
    refuse_over,
    text_size,
    tick,
)

# Filters made for HTML or debugging: a plain-text post has no use for them.
REMOVED_FILTERS = frozenset({"pprint", "tojson", "urlize", "xmlattr"})


# --- output, loops and blocks ----------------------------------------------------------------
class _BoundedBuffer(list[str]):
    """Where a macro, a `{% set %}` block or a filter block collects its output. Empty
    pieces are dropped: a loop printing nothing must not grow a list for a second."""

    size = 0

    def append(self, item: str) -> None:
        self._add(len(item))
        if item:
            super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        kept = tuple(item for item in items if item)
        self._add(sum(len(item) for item in kept))
        super().extend(kept)

    def _add(self, size: int) -> None:
        tick()
        self.size += size
        refuse_over(self.size, "a block", MAX_OUTPUT)
        charge(size)


def _finalize(value: Any) -> Any:
    """Every `{{ }}` output, before Jinja turns it into text."""
    tick()
    size = text_size(value)
    refuse_over(size, "an output")
    charge(size)
    return value


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with loops that tick, bounded buffers and a bounded `~`."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.bounded_buffer()")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        iterable = nodes.Call(
            nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [], None, None
        )
        iterable.set_lineno(node.lineno)
        ticking = nodes.For(node.target, iterable, node.body, node.else_, node.test, node.recursive)
        ticking.set_lineno(node.lineno)
        ticking.set_environment(self.environment)
        super().visit_For(ticking, frame)


class PostSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the bounds above; post templates need no arithmetic
    beyond small numbers, so powers are refused outright."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, undefined=StrictUndefined, **options)
        self.globals.clear()  # no `range`, `cycler`, `namespace`: only the declared values
        for name in REMOVED_FILTERS:
            self.filters.pop(name, None)
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        tick()
        if operator_ == "**":
            raise SecurityError("the power operator is not available in post templates")
        BINOP_CHECKS[operator_](left, right)
        result = self.binop_table[operator_](left, right)
        charge_for(result)
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        tick()
        receiver = getattr(__obj, "__self__", None)
        if isinstance(__obj, BuiltinMethodType) and isinstance(receiver, str | bytes):
            args = check_str_method(receiver, __obj.__name__, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        charge_for(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's own wrapper, with a formatter that measures each field first."""
        if not isinstance(value, BuiltinMethodType) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        text = value.__self__
        if not isinstance(text, str):
            return None
        formatter = BoundedFormatter(self)
        is_format_map = value.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if not is_format_map:
                return formatter.vformat(text, args, kwargs)
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument")
            return formatter.vformat(text, (), args[0])

        return update_wrapper(wrapper, value)

    @staticmethod
    def bounded_buffer() -> list[str]:
        return _BoundedBuffer()

    @staticmethod
    def bounded_concat(parts: tuple[Any, ...]) -> str:
        tick()
        size = 0
        for part in parts:
            size += text_size(part)
            refuse_over(size, "'~'")
        charge(size)
        return "".join(map(str, parts))

    @staticmethod
    def bounded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            tick()
            yield item


def render_bounded(environment: PostSandbox, body: str, values: Mapping[str, str]) -> str:
    """Render `body` within every bound above; the output is cut off at `MAX_OUTPUT`."""
    with budget():
        chunks: list[str] = []
        size = 0
        for chunk in environment.from_string(body).generate(values):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the output would exceed {MAX_OUTPUT} characters")
            if chunk:
                chunks.append(chunk)
    return "".join(chunks)
