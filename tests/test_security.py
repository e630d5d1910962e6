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


# ------------------------------------------------------------------ the access gate


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.2"])
def test_local_addresses_need_no_token(address, monkeypatch):
    from app.access import refusal

    monkeypatch.delenv("XNER_ACCESS_TOKEN", raising=False)
    assert refusal(address) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "", None, "192.168.1.5", "example.org"])
def test_network_addresses_need_a_long_token(address, monkeypatch):
    from app.access import refusal

    monkeypatch.delenv("XNER_ACCESS_TOKEN", raising=False)
    assert "no access token is set" in refusal(address)
    monkeypatch.setenv("XNER_ACCESS_TOKEN", "short")
    assert "shorter than 12 characters" in refusal(address)
    monkeypatch.setenv("XNER_ACCESS_TOKEN", "a-long-enough-token")
    assert refusal(address) is None


def test_token_comparison(monkeypatch):
    from app.access import token_matches

    monkeypatch.delenv("XNER_ACCESS_TOKEN", raising=False)
    assert not token_matches("")  # no token configured: nothing matches
    monkeypatch.setenv("XNER_ACCESS_TOKEN", "correct-horse-battery")
    assert token_matches("correct-horse-battery") and token_matches(" correct-horse-battery ")
    assert not token_matches("correct-horse-batter") and not token_matches("")


def test_serve_refuses_to_listen_on_a_network_without_a_token(monkeypatch):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XNER_ACCESS_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "app.serve", "--server.address", "0.0.0.0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and "XNER_ACCESS_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reads_the_bind_address(monkeypatch):
    from app.serve import bind_address

    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS", raising=False)
    assert bind_address(["--server.address", "0.0.0.0"]) == "0.0.0.0"
    assert bind_address(["--server.address=::"]) == "::"
    assert bind_address([]) == "localhost"  # .streamlit/config.toml
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "10.0.0.1")
    assert bind_address(["--server.port", "1"]) == "10.0.0.1"


def test_app_asks_for_the_token_before_any_page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app_support import build_demo

    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    build_demo(tmp_path)
    monkeypatch.setenv("XNER_ACCESS_TOKEN", "correct-horse-battery")
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    assert at.title[0].value == "xner: access token required"
    assert len(at.title) == 1 and not at.selectbox  # no page, no project picker
    at.text_input(key="access_token").set_value("guess")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong access token." and len(at.title) == 1
    at.text_input(key="access_token").set_value("correct-horse-battery")
    at.button[0].click().run()
    assert at.session_state["access_granted"]
    at.switch_page("../pages/data.py").run()  # the pages run now, in this session
    assert not at.exception and [t.value for t in at.title] == ["Load data"]


# ------------------------------------------------------------------ the container


def _dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            steps.append((instruction.upper(), rest.strip()))
    return steps


def test_the_container_runs_as_an_unprivileged_user():
    steps = _dockerfile()
    users = [rest for instruction, rest in steps if instruction == "USER"]
    assert users, "the Dockerfile never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = [rest for instruction, rest in steps if instruction == "RUN" and "useradd" in rest]
    assert created and f" {user}" in created[0] and "--uid 10001" in created[0]
    # the last USER comes before the command the container runs
    order = [instruction for instruction, _ in steps]
    assert order.index("CMD") > len(order) - 1 - order[::-1].index("USER")
    cmd = next(rest for instruction, rest in steps if instruction == "CMD")
    assert '"app.serve"' in cmd and '"0.0.0.0"' in cmd  # the gate refuses without a token


@pytest.mark.skipif(
    os.environ.get("XNER_DOCKER_TEST") != "1",
    reason="building the image takes minutes and a Docker daemon; set XNER_DOCKER_TEST=1",
)
def test_the_built_image_user_and_its_refusal():
    import subprocess

    subprocess.run(["docker", "build", "-t", "xner-test", str(ROOT)], check=True)
    uid = subprocess.run(
        ["docker", "run", "--rm", "xner-test", "id", "-u"], capture_output=True, text=True
    )
    assert uid.stdout.strip() == "10001"
    refused = subprocess.run(["docker", "run", "--rm", "xner-test"], capture_output=True, text=True)
    assert refused.returncode == 2 and "XNER_ACCESS_TOKEN" in refused.stderr
