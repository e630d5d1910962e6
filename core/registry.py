"""Registries map a backend name to its factory, so configs can swap components by name.

A registry owns its components' parameters, as scikit-learn's `get_params` does: `create` and
`check_params` compare the given keyword arguments with the factory's signature and type hints
(ranges come from `Annotated[int, Field(ge=1)]` hints, checked by pydantic) and raise a
ConfigError naming the parameter, the value and the accepted parameters. Backends live in
modules that register themselves on import; a registry imports its `backends` lazily, on the
first lookup, so naming a component never loads torch unless that component needs it.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from core.errors import ConfigError

T = TypeVar("T")

# Hints built only from these are checked (and coerced) by pydantic; a parameter that carries a
# live object (a translator instance, sentences) is passed through as given.
_SETTING_TYPES = (int, float, str, bool, type(None), Path)


class Registry(Generic[T]):
    """A named table of factories for one kind of component (aligner, projector, ...).

    `backends`: modules that register into this table on import, loaded on first use; a
    backend whose optional dependency is missing stays unknown instead of breaking the rest.
    """

    def __init__(self, kind: str, backends: Sequence[str] = ()):
        self.kind = kind
        self.backends = tuple(backends)
        self._factories: dict[str, Callable[..., T]] = {}
        self._loaded = not self.backends

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories and self._factories[name] is not factory:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return decorate

    def load_backends(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self.backends:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name == module:
                    raise
                # a missing optional dependency of that backend: it stays unknown

    def get(self, name: str) -> Callable[..., T]:
        self.load_backends()
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def check_params(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters validated against `name`'s constructor: unknown names and values of
        the wrong type or out of range are ConfigErrors; values are coerced where the hint
        allows (the CLI's "5" for an int)."""
        return check_params(self.get(name), params, f"{self.kind} {name!r}")

    def create(self, name: str, **params: Any) -> T:
        return self.get(name)(**self.check_params(name, params))

    def names(self) -> list[str]:
        self.load_backends()
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        self.load_backends()
        return name in self._factories


def accepted_params(factory: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The keyword parameters a factory (class or function) takes."""
    signature = inspect.signature(factory)
    return {
        name: p
        for name, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"
    }


def _hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # noqa: BLE001 - an unresolvable hint is not checked rather than fatal
        return {}


def check_params(factory: Callable[..., Any], params: dict[str, Any], what: str) -> dict[str, Any]:
    from pydantic import TypeAdapter, ValidationError

    signature = inspect.signature(factory)
    accepted = accepted_params(factory)
    open_ended = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    hints = _hints(factory)
    checked: dict[str, Any] = {}
    for key, value in params.items():
        if key not in accepted:
            if open_ended:
                checked[key] = value
                continue
            names = ", ".join(accepted) or "none"
            raise ConfigError(f"{what} has no parameter {key!r}; accepted: {names}")
        hint = hints.get(key)
        if hint is None or not _is_setting(hint):
            checked[key] = value
            continue
        try:
            checked[key] = TypeAdapter(hint).validate_python(value)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"] if exc.errors() else str(exc)
            raise ConfigError(f"{what}: parameter {key}={value!r} is invalid: {problem}") from None
    return checked


def _is_setting(hint: Any) -> bool:
    """True for hints made of plain values (numbers, text, paths, literals, their lists)."""
    if hint in _SETTING_TYPES:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return _is_setting(args[0])
    if origin is Literal:
        return True
    if origin in (Union, types.UnionType, list, tuple, dict, Sequence):
        return bool(args) and all(a is Ellipsis or _is_setting(a) for a in args)
    return False
