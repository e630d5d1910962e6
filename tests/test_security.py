"""Confinement of typed paths, plain rendering of typed text, the access gate, the container user."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from app.text import language_code, plain
from core.errors import ConfigError, InputError
from core.workbench.paths import PathNotAllowed, allowed_roots, readable_path, writable_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XNER_HOME", str(home))
    monkeypatch.delenv("XNER_DATA", raising=False)
    monkeypatch.delenv("XNER_ALLOWED_PATHS", raising=False)
    return home


def test_paths_inside_the_data_home_are_readable(home):
    (home / "a.conll").write_text("x O\n")
    assert readable_path(str(home / "a.conll")) == (home / "a.conll").resolve()
    assert readable_path("a.conll") == (home / "a.conll").resolve()  # relative: in the home


@pytest.mark.parametrize("typed", ["/etc/passwd", "/etc", "../outside.txt", "~/.bashrc", "/"])
def test_paths_outside_are_refused_without_reading_them(home, typed):
    with pytest.raises(PathNotAllowed, match="outside the folders this app may read"):
        readable_path(typed)


def test_a_symlink_inside_the_home_to_outside_is_refused(home, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    (home / "link.txt").symlink_to(secret)
    with pytest.raises(PathNotAllowed) as info:
        readable_path(str(home / "link.txt"))
    assert "hunter2" not in str(info.value)
    folder = home / "dataset"
    folder.mkdir()
    (folder / "target.txt").symlink_to(secret)
    with pytest.raises(PathNotAllowed, match="links outside"):
        readable_path(str(folder))


def test_dotdot_out_of_the_home_is_refused(home):
    with pytest.raises(PathNotAllowed):
        readable_path(str(home / ".." / ".." / "etc" / "passwd"))


def test_configured_data_folders_are_readable(home, tmp_path, monkeypatch):
    data, extra = tmp_path / "data", tmp_path / "extra"
    data.mkdir()
    extra.mkdir()
    (extra / "x.txt").write_text("a\n")
    monkeypatch.setenv("XNER_DATA", str(data))
    monkeypatch.setenv("XNER_ALLOWED_PATHS", f"{extra}{os.pathsep}")
    assert allowed_roots() == [home.resolve(), data.resolve(), extra.resolve()]
    assert readable_path(str(extra / "x.txt")) == (extra / "x.txt").resolve()
    with pytest.raises(InputError, match="no such file"):
        readable_path(str(data / "missing.conll"))


def test_writes_only_inside_the_data_home(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XNER_DATA", str(tmp_path))  # readable is not writable
    assert writable_path("exports/train.conll") == (home / "exports" / "train.conll").resolve()
    for typed in ("/etc/cron.d/x", str(tmp_path / "new" / "x.conll"), "../x.conll", str(home)):
        with pytest.raises(PathNotAllowed, match="this app writes only there"):
            writable_path(typed)
    assert not (tmp_path / "new").exists()
    (home / "exports").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        writable_path(str(home / "exports"))


def test_nul_and_empty_paths(home):
    with pytest.raises(PathNotAllowed, match="NUL"):
        readable_path("a\x00b")
    with pytest.raises(InputError, match="no path given"):
        readable_path("  ")


@pytest.mark.parametrize(
    "text",
    [
        "![x](https://attacker.example/p.png)",
        "[click](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        ":red[big] $\\href{https://x}{y}$",
        "<https://attacker.example>",
    ],
)
def test_plain_text_has_no_active_markdown(text):
    escaped = plain(text)
    # every bracket, angle bracket and dollar is escaped: no link, image, HTML or LaTeX can form
    assert not re.search(r"(?<!\\)[\[\]<>$]", escaped)
    assert re.sub(r"\\(.)", r"\1", escaped) == text


def test_language_codes():
    assert language_code(" yor ") == "yor" and language_code("pt-BR") == "pt-BR"
    assert language_code("yor_Latn") == "yor_Latn" and language_code("") == ""
    for bad in ("![x](http://a/b.png)", "en<script>", "e", "a" * 40):
        with pytest.raises(ConfigError, match="not a language code"):
            language_code(bad)
