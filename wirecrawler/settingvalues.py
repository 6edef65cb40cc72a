"""The project's setting values, read and checked: a bad one names the setting, its value and the fix.

Plain Python with no Scrapy import: the config objects of pure modules (``wirecrawler.runs.checks``,
``wirecrawler.runs.history``) read their settings with it too. *settings* is anything with
``get(name)``: Scrapy's ``Settings``, or a dict.

A config object reads its settings with a ``SettingsReader``. A value the run cannot use is a
``SettingError``, one line: ``WIRECRAWLER_REPORTS_KEPT=abc: the number of run reports kept must be
a whole number, 1 or more: set one, or leave the setting out for the default (50)``. A reader
collects every such problem and gives the default in its place, so that the preflight
(``wirecrawler.preflight``) reads every setting once and reports all it finds;
``read_strictly`` raises the first one instead, for a component reading its own settings.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

# Scrapy's getbool() accepts these, and only these.
_TRUE, _FALSE = ("1", "True", "true"), ("0", "False", "false")


def shown(value: Any) -> str:
    """A setting's value as it would be written after ``-s NAME=`` in a shell."""
    return shlex.quote(value) if isinstance(value, str) else json.dumps(value, default=str)


class SettingError(ValueError):
    """A setting the run cannot use: its name, its value, what is wrong and how to fix it."""

    def __init__(self, name: str, value: Any, problem: str, fix: str):
        self.name, self.value, self.problem, self.fix = name, value, problem, fix
        super().__init__(f"{name}={shown(value)}: {problem}: {fix}")


class ConfigurationError(ValueError):
    """A set-up the run cannot start with: every problem found, each a ``SettingError``.

    Its text is one line, each problem after ``Configuration: ``, separated by ``; ``.
    """

    def __init__(self, problems: list[SettingError]):
        if not problems:
            raise ValueError("a configuration error needs at least one problem")
        self.problems = list(problems)
        super().__init__("; ".join(f"Configuration: {problem}" for problem in self.problems))


def _default_fix(default: Any) -> str:
    return f"set one, or leave the setting out for the default ({default})"


class SettingsReader:
    """Reads settings, each checked; a bad value is recorded in ``problems`` and its default used."""

    def __init__(self, settings):
        self.settings = settings
        self.problems: list[SettingError] = []

    def raw(self, name: str) -> Any:
        """The value as given; None when it is not set. An empty string is not set either: it is
        what ``-s NAME=$UNSET_VARIABLE`` gives."""
        value = self.settings.get(name)
        return None if value is None or value == "" else value

    def problem(self, name: str, value: Any, problem: str, fix: str) -> None:
        self.problems.append(SettingError(name, value, problem, fix))

    def text(self, name: str, default: str | None) -> str | None:
        raw = self.raw(name)
        return default if raw is None else str(raw)

    def boolean(self, name: str, default: bool, what: str) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if str(raw) in _TRUE + _FALSE:
            return str(raw) in _TRUE
        fix = f"set one of them, or leave the setting out for the default ({int(default)})"
        self.problem(name, raw, f"{what} is switched with 1 (on) or 0 (off)", fix)
        return default

    def whole(self, name: str, default: int, what: str, *, minimum: int, note: str = "") -> int:
        """A whole number, *minimum* or more; *note* says what a special value means ("0: off")."""
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = raw if isinstance(raw, int) and not isinstance(raw, bool) else int(str(raw).strip())
        except ValueError:
            value = None
        if value is None or value < minimum:
            rule = f"a whole number, {minimum} or more" + (f" ({note})" if note else "")
            self.problem(name, raw, f"{what} must be {rule}", _default_fix(default))
            return default
        return value

    def number(
        self, name: str, default: float, what: str, *, minimum: float, above: bool = False,
        maximum: float | None = None, note: str = "", default_shown: Any = None,
    ) -> float:  # fmt: skip
        """A finite number from *minimum* (excluded when *above*) up to *maximum*; *default_shown*
        is the default as the fix says it, where *default* does not read well."""
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            value = math.nan
        in_range = math.isfinite(value) and (value > minimum if above else value >= minimum)
        if maximum is not None:
            in_range = in_range and value <= maximum
        if not in_range:
            bound = f"more than {minimum:g}" if above else f"{minimum:g} or more"
            if maximum is not None:
                bound = f"from {minimum:g} to {maximum:g}"
            rule = f"a number, {bound}" + (f" ({note})" if note else "")
            fix = _default_fix(default if default_shown is None else default_shown)
            self.problem(name, raw, f"{what} must be {rule}", fix)
            return default
        return value

    def mapping(self, name: str, default: Mapping, what: str, valid: Callable[[dict], bool], rule: str) -> Mapping:
        """A JSON object (or a dict, from a script) that *valid* accepts; *rule* says which."""
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = raw if isinstance(raw, dict) else json.loads(str(raw))
        except ValueError:
            value = None
        if not isinstance(value, dict) or not valid(value):
            self.problem(name, raw, f"{what} must be {rule}", "set one, or leave the setting out for the default")
            return default
        return value


def read_strictly(settings, read: Callable[..., T], *args: Any) -> T:
    """``read(reader, *args)`` with a reader of *settings*; raises the first ``SettingError`` found."""
    reader = SettingsReader(settings)
    value = read(reader, *args)
    if reader.problems:
        raise reader.problems[0]
    return value
