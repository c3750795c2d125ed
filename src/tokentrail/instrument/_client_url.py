"""Where a client's base URL lives, per client class: what ``client._base_url`` reads in the end, so
the C ``begin`` can take it from the instance dict instead of walking the class's MRO (and, in
openai >= 3.63, two Python properties) on every call."""

from __future__ import annotations

import dis
import importlib
import importlib.util
from typing import Any

_MISSING = object()


def _reads(self: Any) -> Any:  # the one reader shape followed: ``return self.<name>``
    return self.name


_PLAIN_GETTER = _reads.__code__.co_code


def _getter(attr: object) -> Any:
    """A property's getter, where ``attr`` is a plain property whose getter is a function without a closure
    taking ``self`` alone; else None."""
    fget = getattr(attr, "fget", None) if type(attr) is property else None
    code = getattr(fget, "__code__", None)
    if code is None or getattr(fget, "__closure__", None) is not None or code.co_argcount != 1:
        return None
    return fget


def _plain_reader(fn: Any) -> str | None:
    """The name ``fn`` returns ``self.<name>`` of, where that is all it does; else None."""
    code = getattr(fn, "__code__", None)
    if code is None or getattr(fn, "__closure__", None) is not None or code.co_argcount != 1:
        return None
    if code.co_code != _PLAIN_GETTER or len(code.co_names) != 1:
        return None
    return str(code.co_names[0])


def _followed(attr: object) -> str | None:
    """The name a property's getter returns ``self.<name>`` of, or None for any other getter."""
    return _plain_reader(_getter(attr))


_DELEGATE = ["LOAD_CONST", "LOAD_CONST", "IMPORT_NAME", "IMPORT_FROM", "STORE_FAST", "POP_TOP", "LOAD_FAST",
             "LOAD_FAST", "CALL", "RETURN_VALUE"]  # fmt: skip
_FILLER = {"RESUME", "CACHE", "PRECALL", "PUSH_NULL", "NOP"}


def _delegated(attr: object) -> str | None:
    """The name read where a property's getter is ``from <module> import f; return f(self)`` and ``f`` is
    ``return self.<name>`` (openai >= 3.63's ``OpenAI.base_url``); None for anything else, or on another
    interpreter's bytecode."""
    fget = _getter(attr)
    if fget is None:
        return None
    ops = [i for i in dis.get_instructions(fget) if i.opname not in _FILLER]
    if [i.opname for i in ops] != _DELEGATE or ops[4].argval != ops[6].argval or ops[7].argval != "self":
        return None
    level, module, name = ops[0].argval, ops[2].argval, ops[3].argval
    if not isinstance(level, int) or ops[1].argval != (name,):
        return None
    try:
        package = fget.__globals__.get("__package__")
        f = getattr(importlib.import_module(importlib.util.resolve_name("." * level + module, package)), name)
    except Exception:
        return None
    return _plain_reader(f)


def base_url_key(cls: type) -> str | None:
    """The instance-dict key that ``client._base_url`` reads on a client of ``cls``, through nothing but
    ``return self.<name>`` properties, or one that imports a function doing just that (openai < 3.63:
    ``_base_url`` itself; >= 3.63: ``_base_url`` -> ``OpenAI.base_url`` -> ``lib._client_auth.syncbase_url``
    -> ``_configured_base_url``); None where anything else stands in the way (a slot, another descriptor,
    a getter that computes): the C path then uses getattr."""
    name = "_base_url"
    for _ in range(4):
        attr = next((k.__dict__[name] for k in cls.__mro__ if name in k.__dict__), _MISSING)
        if attr is _MISSING or not (hasattr(type(attr), "__set__") or hasattr(type(attr), "__delete__")):
            return name  # the instance dict wins where it has the name (else getattr finds the class's)
        followed = _followed(attr) or _delegated(attr)
        if followed is None:
            return None
        name = followed
    return None
