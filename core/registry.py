"""Registries map a backend name to its factory, so configs can swap components by name.

A registry owns its components' parameters, as scikit-learn's `get_params` does: `create` and
`check_params` compare the given keyword arguments with the factory's signature and type hints
(choices come from `Literal[...]` hints and ranges from `Annotated[int, Field(ge=1, le=32)]`
hints, checked and coerced by pydantic) and raise a one-line ConfigError naming the parameter,
the value and what is accepted. A factory that takes `**options` declares them with an
`options` class attribute: a dataclass whose typed fields are checked the same way.

Capabilities are class attributes of the components (a projector's `needs_translator`, an
aligner's `trains_on_corpus`), read through the registry: `PROJECTORS.get("marker")
.needs_translator`, or `PROJECTORS.names(needs_translator=False)`.

Backends live in modules that register themselves on import; a registry imports its `backends`
lazily, on the first lookup, so naming a component never loads torch unless that component
needs it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from core.errors import ConfigError

T = TypeVar("T")

# Hints built only from these are checked (and coerced) by pydantic; a parameter that carries a
# live object (a translator instance, sentences) is passed through as given.
_SETTING_TYPES = (int, float, str, bool, type(None), Path, dict, list)
_UNIONS = (Union, types.UnionType)
_CONTAINERS = (list, tuple, dict, Sequence, Mapping)


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
        self._unavailable: dict[str, str] = {}  # backend module -> the dependency it lacks

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
                # a missing optional dependency of that backend: it stays unknown, and says why
                self._unavailable[module] = f"{module} needs {exc.name}, not installed"

    def get(self, name: str) -> Callable[..., T]:
        """The factory (usually the class) registered as `name`; its class attributes are the
        component's capabilities."""
        self.load_backends()
        try:
            return self._factories[name]
        except (KeyError, TypeError):
            known = ", ".join(self.names()) or "none"
            missing = "; ".join(self._unavailable.values())
            raise ConfigError(
                f"unknown {self.kind} {name!r}; known: {known}"
                + (f" (not loaded: {missing})" if missing else "")
            ) from None

    def check_params(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters validated against `name`'s constructor: unknown names and values of
        the wrong type or out of range are ConfigErrors; values are coerced where the hint
        allows (the CLI's "5" for an int)."""
        return check_params(self.get(name), params, f"{self.kind} {name!r}")

    def create(self, name: str, **params: Any) -> T:
        return self.get(name)(**self.check_params(name, params))

    def describe_params(self, name: str) -> dict[str, str]:
        """Each parameter of `name` with what it accepts and its default, for help texts."""
        factory = self.get(name)
        hints = parameter_hints(factory)
        defaults = parameter_defaults(factory)
        out = {}
        for key in hints:
            text = describe(hints[key]) if hints[key] is not None else "any value"
            if key in defaults:
                text += f" (default {defaults[key]!r})"
            out[key] = text
        return out

    def names(self, **capabilities: Any) -> list[str]:
        """The registered names, sorted; with `capability=value` only the components whose
        class attribute `capability` equals `value` (e.g. `needs_translator=False`)."""
        self.load_backends()
        return sorted(
            name
            for name, factory in self._factories.items()
            if all(getattr(factory, key, None) == want for key, want in capabilities.items())
        )

    def __contains__(self, name: object) -> bool:
        self.load_backends()
        return name in self._factories


# --------------------------------------------------------------------------- parameters


def accepted_params(factory: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The keyword parameters a factory (class or function) takes."""
    signature = inspect.signature(factory)
    return {
        name: p
        for name, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"
    }


def _options(factory: Callable[..., Any]) -> type | None:
    options = getattr(factory, "options", None)
    return options if isinstance(options, type) and dataclasses.is_dataclass(options) else None


def _resolve_hints(target: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # noqa: BLE001 - an unresolvable hint is not checked rather than fatal
        return {}


def parameter_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    """Every parameter name the factory accepts -> its type hint (None where it has none): the
    signature's keyword parameters, then the fields of its `options` dataclass."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    hints = _resolve_hints(target)
    out = {name: hints.get(name) for name in accepted_params(factory)}
    options = _options(factory)
    if options is not None:
        option_hints = _resolve_hints(options)
        for f in dataclasses.fields(options):
            out.setdefault(f.name, option_hints.get(f.name))
    return out


def value_params(factory: Callable[..., Any]) -> dict[str, Any]:
    """The parameters whose hints are plain values (numbers, text, paths, choices, their lists):
    the ones `check_params` validates. The others carry live objects (a translator instance,
    sentences) and are passed through as given."""
    return {k: h for k, h in parameter_hints(factory).items() if h is not None and _is_setting(h)}


def parameter_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    out = {
        name: p.default
        for name, p in accepted_params(factory).items()
        if p.default is not inspect.Parameter.empty
    }
    options = _options(factory)
    if options is not None:
        for f in dataclasses.fields(options):
            if f.default is not dataclasses.MISSING:
                out.setdefault(f.name, f.default)
    return out


def check_params(
    factory: Callable[..., Any], params: Mapping[str, Any], what: str
) -> dict[str, Any]:
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    signature = inspect.signature(factory)
    hints = parameter_hints(factory)
    values = value_params(factory)
    open_ended = _options(factory) is None and any(
        p.kind == p.VAR_KEYWORD for p in signature.parameters.values()
    )
    checked: dict[str, Any] = {}
    for key, value in params.items():
        if key not in hints:
            if open_ended:
                checked[key] = value
                continue
            names = ", ".join(hints) or "none"
            raise ConfigError(
                f"{what} has no parameter {key!r} ({key}={value!r}); accepted: {names}"
            )
        if key not in values:
            checked[key] = value
            continue
        hint = values[key]
        expected = describe(hint)
        if isinstance(value, bool) and not _admits(hint, bool):
            raise ConfigError(f"{what}: {key}={value!r} is invalid; expected {expected}")
        try:
            adapter = TypeAdapter(hint, config=ConfigDict(coerce_numbers_to_str=True))
            checked[key] = adapter.validate_python(value)
        except ValidationError as exc:
            raise ConfigError(
                f"{what}: {key}={value!r} is invalid{_problem(hint, exc)}; expected {expected}"
            ) from None
    return checked


# pydantic errors that only repeat what `describe` says (a bound, the choices).
_SELF_EXPLAINED = frozenset(
    {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "literal_error"}
)


def _problem(hint: Any, exc: Any) -> str:
    """pydantic's reason, where it adds something (`unable to parse string as an integer`);
    for unions it names one arm only, which misleads."""
    errors = exc.errors()
    if not errors or typing.get_origin(hint) in _UNIONS or errors[0]["type"] in _SELF_EXPLAINED:
        return ""
    message = errors[0]["msg"]
    return f" ({message[:1].lower()}{message[1:]})"


# --------------------------------------------------------------------------- hints


def _is_setting(hint: Any) -> bool:
    """True for hints made of plain values (numbers, text, paths, literals, their lists)."""
    if hint in _SETTING_TYPES:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return _is_setting(args[0])
    if origin is Literal:
        return True
    if origin in (*_UNIONS, *_CONTAINERS):
        return bool(args) and all(a is Ellipsis or _is_setting(a) for a in args)
    return False


def _admits(hint: Any, kind: type) -> bool:
    """Whether `hint` accepts values of exactly `kind` (bool is not an int here)."""
    if hint is kind or hint is Any:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return _admits(args[0], kind)
    if origin in _UNIONS:
        return any(_admits(a, kind) for a in args)
    if origin is Literal:
        return any(type(a) is kind for a in args)
    return False


_NAMES = {
    int: "an integer",
    float: "a number",
    str: "text",
    bool: "true or false",
    type(None): "null",
    Path: "a path",
    dict: "a mapping",
    list: "a list",
}


def _bounds(metadata: Sequence[Any]) -> str:
    """`from 1 to 32`, `at least 0`, `greater than 0 and at most 1` from Field(ge=..., ...)."""
    limits: dict[str, Any] = {}
    for item in metadata:
        for source in [item, *getattr(item, "metadata", ())]:
            for attr in ("ge", "gt", "le", "lt"):
                if getattr(source, attr, None) is not None:
                    limits[attr] = getattr(source, attr)
    if "ge" in limits and "le" in limits:
        return f"from {limits['ge']} to {limits['le']}"
    words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}
    return " and ".join(f"{words[k]} {v}" for k, v in limits.items())


def describe(hint: Any) -> str:
    """What a hint accepts, in words: `an integer from 1 to 32`, `one of 'a', 'b'`."""
    if hint in _NAMES:
        return _NAMES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        bounds = _bounds(args[1:])
        return describe(args[0]) + (f" {bounds}" if bounds else "")
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in _UNIONS:
        parts = [describe(a) for a in args]
        return (", or " if len(parts) > 2 else " or ").join(parts)
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(set(args)) == 1:
            return f"a list of {len(args)} (each {describe(args[0])})"
        return f"a list of {len(args)}: " + ", ".join(describe(a) for a in args)
    if origin in (list, tuple, Sequence) and args:
        item = describe(args[0])
        return f"a list of ({item})" if " " in item else f"a list of {item}"
    if origin in (dict, Mapping):
        return "a mapping"
    return getattr(hint, "__name__", str(hint))
