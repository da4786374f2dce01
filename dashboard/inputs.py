"""Callback arguments checked against their annotations before a callback runs.

Anyone can POST to Dash's update endpoint, so a callback may be sent a number or a list
where its annotation says text, or text that is not valid Unicode (a lone surrogate).
`checked` turns such input into "no update" (an empty 204 answer) with a log line,
instead of an exception deep inside the page code and a 500.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_type_hints

from dash.exceptions import PreventUpdate
from pydantic import TypeAdapter, ValidationError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def callback_failed(error: Exception) -> None:
    """Dash's handler of an exception in any callback, Dash's own page router included
    (it is sent the URL's parts, which a client can replace with anything): logged with
    its traceback, answered with "no update" rather than a 500."""
    log.error("a callback failed; answered with no update", exc_info=error)
    raise PreventUpdate


def _has_bad_text(value: Any) -> bool:
    """Whether `value` holds text that cannot be encoded (lone surrogates)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_bad_text(k) or _has_bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_bad_text(v) for v in value)
    return False


def checked(function: F) -> F:
    """Run `function` only with arguments of its annotated types."""
    hints = get_type_hints(function)
    names = list(inspect.signature(function).parameters)
    adapters = {name: TypeAdapter(hints[name]) for name in names if name in hints}

    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        for name, value in zip(names, args, strict=False):
            try:
                if name in adapters:
                    adapters[name].validate_python(value, strict=True)
            except ValidationError:
                bad = True
            else:
                bad = _has_bad_text(value)
            if bad:
                log.warning(
                    "callback %s: ignored a %s for %s",
                    function.__name__,
                    type(value).__name__,
                    name,
                )
                raise PreventUpdate
        return function(*args)

    return cast(F, wrapper)
