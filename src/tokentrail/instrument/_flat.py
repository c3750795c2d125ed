"""Raw usage of an SDK usage model as one flat tuple of atoms, ``(shape, *values)`` (``model.raw_view``).

A kept call is a tuple spliced with these values: atoms only, so the collector untracks it at its
first collection. A dict anywhere in it (tracked or not) keeps it tracked and walked at every
collection of its generation (~6k instructions per plain call in valgrind), and so does a nested
tuple until a later collection untracks that first: the shape (one per layout, kept here) is atoms
too, so it is untracked at its first collection and from then on no record waits for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

Known = tuple[tuple[Any, ...], Callable[[Any], tuple[Any, ...]], int]  # shape, top-level getter, len
_SHAPES: dict[tuple[type, type, type], Known] = {}


def flat_usage(
    u: Any, ud: dict[str, Any], outer: Any, outer_fields: Mapping[str, Any], inner: Any,
    inner_fields: Mapping[str, Any],
) -> tuple[Any, ...] | None:  # fmt: skip
    """``(shape, *values)`` for usage model ``u`` (its ``__dict__`` ``ud``) whose two detail models
    (or None) are ``outer`` and ``inner``, with the fields the reader already has of each (empty for
    None); None if this layout cannot be flattened (the caller copies)."""
    known = _SHAPES.get((type(u), type(outer), type(inner)))
    if known is None:
        known = _learn(u, ud, outer, inner)
        if known is None:
            return None
    shape, top, n = known
    if len(ud) != n:
        return None
    return (shape, *top(ud), *outer_fields.values(), *inner_fields.values())


def _learn(u: Any, ud: dict[str, Any], outer: Any, inner: Any) -> Known | None:
    """The shape of this layout, learned once: top-level keys, then each detail model's keys."""
    details = [d for d in (outer, inner) if d is not None]
    names = [next((k for k, v in ud.items() if v is d), None) for d in details]
    top = tuple(k for k, v in ud.items() if not any(v is d for d in details))
    if len(top) < 2 or None in names or len(_SHAPES) >= 256:
        return None
    shape: tuple[Any, ...] = top
    for name, d in zip(names, details):  # a nested mapping: how many keys it has, its name, its keys
        shape += (len(d.__dict__), name, *d.__dict__)
    known: Known = (shape, itemgetter(*top), len(ud))
    _SHAPES[(type(u), type(outer), type(inner))] = known
    return known
