"""The shape of a thread: how its parts are written in one text, and how many it may have.

Apart from `approvals.posts` (which stores posts) so that `pressgate check` can split and
bound a thread without loading the database layer.
"""

from approvals.errors import InvalidInput

# The most parts a thread may have: drafting, `pressgate check --thread` and the web check
# all hold to this one number.
MAX_PARTS = 25
# X Premium's long posts; far beyond the policy's 280, it only bounds the work a draft can ask.
MAX_PART_CHARS = 25_000
MAX_THREAD_CHARS = MAX_PARTS * (MAX_PART_CHARS + len("\n---\n"))  # a thread file, at most


def split_thread(raw: str) -> list[str]:
    """A thread file holds its parts separated by lines of exactly '---'."""
    parts: list[list[str]] = [[]]
    for line in raw.splitlines():
        if line.strip() == "---":
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(lines).strip("\n") for lines in parts]


def check_part_count(count: int) -> None:
    if count == 0:
        raise InvalidInput("a post needs at least one part")
    if count > MAX_PARTS:
        raise InvalidInput(f"a thread may have at most {MAX_PARTS} parts (got {count})")
