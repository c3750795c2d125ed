"""Token counts of one call or many, in one vocabulary whatever the provider said."""

from __future__ import annotations

from typing import NamedTuple

_int = int


def check_count(name: str, value: object) -> int:
    """Return ``value`` as a token count, or raise naming the field: never a silent 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a non-negative int, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise TypeError(f"{name} must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


class _UsageFields(NamedTuple):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int


class Usage(_UsageFields):
    """All input, all output (reasoning included); cached, cache-write and reasoning are subsets.

    Immutable (a typed named tuple: built in well under a microsecond on the hot path);
    ``total_tokens`` is always ``input_tokens + output_tokens``.
    """

    __slots__ = ()

    def __new__(
        cls,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> Usage:
        i, o, c, w, r = input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens
        if not (type(i) is type(o) is type(c) is type(w) is type(r) is _int) or (i | o | c | w | r) < 0:
            i = check_count("input_tokens", i)
            o = check_count("output_tokens", o)
            c = check_count("cached_input_tokens", c)
            w = check_count("cache_write_tokens", w)
            r = check_count("reasoning_tokens", r)
        if c + w > i:
            raise ValueError(
                f"cached_input_tokens ({c}) + cache_write_tokens ({w}) exceed input_tokens ({i}); "
                "input_tokens must count all input (see tokentrail's normalization rules)"
            )
        if r > o:
            raise ValueError(f"reasoning_tokens ({r}) exceed output_tokens ({o}); output includes reasoning")
        return tuple.__new__(cls, (i, o, i + o, c, w, r))

    def __add__(self, other: object) -> Usage:  # type: ignore[override]
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self[0] + other[0],
            self[1] + other[1],
            self[3] + other[3],
            self[4] + other[4],
            self[5] + other[5],
        )

    def __repr__(self) -> str:
        return (
            f"Usage(input_tokens={self[0]}, output_tokens={self[1]}, total_tokens={self[2]}, "
            f"cached_input_tokens={self[3]}, cache_write_tokens={self[4]}, reasoning_tokens={self[5]})"
        )

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the plain input rate."""
        return self[0] - self[3] - self[4]

    def to_dict(self) -> dict[str, int]:
        return dict(zip(self._fields, self))


ZERO_USAGE = Usage()
_new = tuple.__new__


def usage_of(i: object, o: object, c: object = 0, w: object = 0, r: object = 0) -> Usage:
    """``Usage(i, o, c, w, r)``, built directly when the counts are plainly valid (the hot path), else
    through ``Usage`` itself, which validates and names the bad field."""
    plain = type(i) is type(o) is type(c) is type(w) is type(r) is _int
    if plain and (i | o | c | w | r) >= 0 and c + w <= i and r <= o:  # type: ignore[operator]
        usage: Usage = _new(Usage, (i, o, i + o, c, w, r))  # type: ignore[operator]
        return usage
    return Usage(i, o, c, w, r)  # type: ignore[arg-type]


def summed(i: int, o: int, c: int, w: int, r: int) -> Usage:
    """``Usage(i, o, c, w, r)`` for sums of counts that were each checked already (a batch's columns,
    an accumulator's fields): the same value, without checking them again."""
    u: Usage = tuple.__new__(Usage, (i, o, i + o, c, w, r))
    return u
