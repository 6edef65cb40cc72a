"""Reading setting values (``wirecrawler.settingvalues``): each one checked, a bad one said in one line."""

from __future__ import annotations

import pytest

from wirecrawler.settingvalues import ConfigurationError, SettingError, SettingsReader, read_strictly, shown


def test_a_bad_value_is_one_line_naming_the_setting_its_value_and_the_fix():
    reader = SettingsReader({"WIRECRAWLER_REPORTS_KEPT": "abc"})
    assert reader.whole("WIRECRAWLER_REPORTS_KEPT", 50, "the number of run reports kept", minimum=1) == 50
    [problem] = reader.problems
    assert str(problem) == (
        "WIRECRAWLER_REPORTS_KEPT=abc: the number of run reports kept must be a whole number, 1 or more:"
        " set one, or leave the setting out for the default (50)"
    )
    assert (problem.name, problem.value) == ("WIRECRAWLER_REPORTS_KEPT", "abc")
    assert "\n" not in str(problem)


def test_every_problem_is_collected_and_its_default_used_in_its_place():
    reader = SettingsReader({"A": "-5", "B": "maybe", "C": "1e400", "D": '{"x": 2}', "E": "3"})
    assert reader.whole("A", 10, "a", minimum=0, note="0: off") == 10
    assert reader.boolean("B", False, "b") is False
    assert reader.number("C", 1.5, "c", minimum=0) == 1.5  # infinite
    assert reader.mapping("D", {}, "d", lambda rates: all(0 <= v <= 1 for v in rates.values()), "shares") == {}
    assert reader.whole("E", 10, "e", minimum=0) == 3
    assert [problem.name for problem in reader.problems] == ["A", "B", "C", "D"]
    assert "a whole number, 0 or more (0: off)" in str(reader.problems[0])
    assert "is switched with 1 (on) or 0 (off)" in str(reader.problems[1])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("0", False), ("True", True), ("false", False), (True, True), (0, False), (None, None), ("", None)],
)
def test_switches_take_what_scrapy_takes_and_unset_or_empty_is_the_default(raw, expected):
    reader = SettingsReader({"S": raw})
    assert reader.boolean("S", None, "s") is expected
    assert reader.problems == []


def test_numbers_are_finite_and_within_their_bounds():
    reader = SettingsReader({"N": "nan", "M": "0", "K": "0.5", "L": "1.5"})
    reader.number("N", 1, "n", minimum=0)
    reader.number("M", 1, "m", minimum=0, above=True)
    assert reader.number("K", 1, "k", minimum=0, maximum=1) == 0.5
    reader.number("L", 1, "l", minimum=0, maximum=1)
    assert [str(problem) for problem in reader.problems] == [
        "N=nan: n must be a number, 0 or more: set one, or leave the setting out for the default (1)",
        "M=0: m must be a number, more than 0: set one, or leave the setting out for the default (1)",
        "L=1.5: l must be a number, from 0 to 1: set one, or leave the setting out for the default (1)",
    ]


def test_values_are_shown_as_a_shell_would_take_them():
    assert (shown("/proc/x"), shown("abc"), shown(""), shown("a b"), shown(-5)) == ("/proc/x", "abc", "''", "'a b'", "-5")


def test_strict_reading_raises_the_first_problem_and_a_configuration_error_says_them_all():
    with pytest.raises(SettingError, match="^A=x: "):
        read_strictly({"A": "x", "B": "y"}, lambda reader: (reader.whole("A", 1, "a", minimum=0), reader.whole("B", 1, "b", minimum=0)))
    problems = [SettingError("A", "x", "a is wrong", "fix a"), SettingError("B", "/p", "b is wrong", "fix b")]
    assert str(ConfigurationError(problems)) == "Configuration: A=x: a is wrong: fix a; Configuration: B=/p: b is wrong: fix b"
