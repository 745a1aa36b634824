"""`python -m index` as a newcomer types it: pipes, help, option order, ranges, empty periods,
and `search -` answering line by line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from index.cli import COMMANDS, build_parser
from index.embed import Encoder
from index.ingest import ingest
from index.settings import Settings

REPO = Path(__file__).resolve().parents[2]
RunCli = Callable[..., subprocess.CompletedProcess[str]]

OLD_DATE = "2003-02-01"  # long before any "last N days" a test asks for


def shows_old_date(text: str) -> bool:
    """OLD_DATE as the CLI writes dates for people (ISO, or "1 Feb 2003")."""
    return OLD_DATE in text or "1 Feb 2003" in text


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment run_cli gives: no DOCKET settings, offline, no configured feeds."""
    feeds = tmp_path / "no-feeds.toml"
    feeds.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKET")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false", "DOCKET_FEEDS": str(feeds)})
    env.update(extra)
    return env


def run_bare(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """`python -m index ARGS` with nothing put in front of the arguments."""
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=REPO,
                          env=cli_env(tmp_path, **extra_env), capture_output=True, text=True,
                          timeout=240, check=False)


@pytest.fixture(scope="module")
def old_index(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder,
              settings_for: Callable[..., Settings], writers: SimpleNamespace) -> Path:
    """A data directory whose only story was published on OLD_DATE."""
    root = tmp_path_factory.mktemp("old-index")
    source = writers.markdown(root / "sources" / "quill.md", title="The Quillfeather ruling",
                              url="https://gazette.example.org/quillfeather-ruling",
                              body=writers.body("Quillfeather"), published=OLD_DATE)
    data_dir = root / "data"
    summary = asyncio.run(ingest([str(source)], settings_for(data_dir), encoder))
    assert summary.failed == 0 and summary.new == 1, summary.failures
    return data_dir


# --------------------------------------------------------------------------- a closed pipe

@pytest.mark.parametrize("args, unbuffered", [
    (["search", "What did the Quillfeather judge ask for?"], True),
    (["search", "What did the Quillfeather judge ask for?"], False),
    (["search", "--json", "-"], True),
    (["latest"], False),
    (["sources"], False),
])
def test_output_into_a_closed_pipe_exits_quietly(old_index: Path, tmp_path: Path,
                                                 args: list[str], unbuffered: bool) -> None:
    # `... | head -1` once head has gone: the reading end is closed before anything is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    data_dir = tmp_path / "data"
    if args[0] != "sources":  # sources writes its feed state; give it a directory of its own
        data_dir = old_index
    extra = {"PYTHONUNBUFFERED": "1"} if unbuffered else {}
    try:
        done = subprocess.run([sys.executable, "-m", "index", "--data-dir", str(data_dir), *args],
                              cwd=REPO, env=cli_env(tmp_path, **extra), stdout=write_end,
                              stderr=subprocess.PIPE, input=b"Quillfeather\nruling\n" * 50,
                              timeout=240, check=False)
    finally:
        os.close(write_end)
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "Exception" not in stderr, stderr
    assert done.returncode == 0, stderr


# --------------------------------------------------------------------------- help

def test_help_lists_every_command_and_names_none_selectively(tmp_path: Path) -> None:
    done = run_bare(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    listed = {line.split()[0] for line in out.splitlines()
              if line.startswith("  ") and len(line.split()) > 1 and line.split()[0] in COMMANDS}
    assert listed == set(COMMANDS)
    # Before the option list, the help either names every command or none (a partial list
    # reads as if the rest did not exist).
    head = out.split("\n\n")[1]
    named = {name for name in COMMANDS if name in head.replace(",", " ").replace(".", " ").split()}
    assert named in (set(), set(COMMANDS)), head


def test_every_option_of_every_command_has_help_text() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert isinstance(subparsers.choices, dict)
    missing = []
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if action.dest != "help" and not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_search_help_explains_json(tmp_path: Path) -> None:
    done = run_bare(tmp_path, "search", "--help")
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith("--json"))
    assert len(line.split()) > 1, done.stdout


# --------------------------------------------------------------------------- option order

def test_global_options_are_accepted_after_the_command(old_index: Path, tmp_path: Path) -> None:
    done = run_bare(tmp_path, "stats", "--json", "--data-dir", str(old_index), "-v")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 1
    assert "DEBUG" in done.stderr  # -v after the command turned on debug logging


def test_the_data_dir_after_the_command_wins_over_the_one_before(old_index: Path,
                                                                  tmp_path: Path) -> None:
    done = run_bare(tmp_path, "--data-dir", str(tmp_path / "nothing-here"), "stats", "--json",
                    "--data-dir", str(old_index))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data_dir"] == str(old_index)


def test_the_data_dir_before_the_command_still_works(old_index: Path, tmp_path: Path) -> None:
    done = run_bare(tmp_path, "--data-dir", str(old_index), "stats", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data_dir"] == str(old_index)


# --------------------------------------------------------------------------- ranges

@pytest.mark.parametrize("args, option", [
    (["latest", "sora", "--days", "-3"], "--days"),
    (["latest", "--days", "0"], "--days"),
    (["latest", "--count", "0"], "--count"),
    (["latest", "--days", "abc"], "--days"),
    (["search", "-k", "-1", "sora"], "-k"),
    (["search", "-k", "0", "sora"], "-k"),
    (["watch", "--tick", "-5"], "--tick"),
    (["feeds", "add", "https://example.org/feed", "--interval", "-1"], "--interval"),
    (["bench", "--repeats", "0"], "--repeats"),
])
def test_out_of_range_numbers_are_refused_in_one_line(old_index: Path, run_cli: RunCli,
                                                      args: list[str], option: str) -> None:
    done = run_cli(old_index, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert option in lines[0] and args[args.index(option) + 1] in lines[0]


def test_an_out_of_range_setting_from_the_environment_is_refused_in_one_line(
        old_index: Path, run_cli: RunCli) -> None:
    done = run_cli(old_index, "search", "sora", extra_env={"DOCKET__SEARCH__RESULTS": "-2"})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "configuration error: search.results must be 1 or more, not -2"


# --------------------------------------------------------------------------- empty periods

def test_latest_with_nothing_in_the_period_names_the_newest_story(old_index: Path,
                                                                  run_cli: RunCli) -> None:
    done = run_cli(old_index, "latest", "--days", "30")
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip()
    assert "30 days" in out and shows_old_date(out), out
    assert len(out.splitlines()) == 1


def test_latest_on_a_topic_with_nothing_in_the_period_names_its_newest_story(
        old_index: Path, run_cli: RunCli) -> None:
    done = run_cli(old_index, "latest", "Quillfeather", "--days", "30")
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip()
    assert "Quillfeather" in out and "30 days" in out and shows_old_date(out), out


def test_latest_json_with_nothing_in_the_period_carries_the_notice(old_index: Path,
                                                                   run_cli: RunCli) -> None:
    done = run_cli(old_index, "latest", "--days", "30", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["results"] == [] and OLD_DATE in data["notice"]


def test_latest_with_stories_in_the_period_has_no_notice(old_index: Path, run_cli: RunCli) -> None:
    done = run_cli(old_index, "latest", "--json")
    data = json.loads(done.stdout)
    assert [r["published"] for r in data["results"]] == [OLD_DATE] and data["notice"] is None


# --------------------------------------------------------------------------- search -

QUESTIONS = ["What did the Quillfeather judge ask for?", "", "   ", "\t",
             "How many works does the Quillfeather complaint list?"]


def test_search_stdin_json_answers_every_line_in_order(old_index: Path, run_cli: RunCli) -> None:
    done = run_cli(old_index, "search", "--json", "-", input="\n".join(QUESTIONS) + "\n")
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(objects) == len(QUESTIONS)
    assert [bool(o["error"]) for o in objects] == [False, True, True, True, False]
    assert objects[0]["query"] == QUESTIONS[0] and objects[4]["query"] == QUESTIONS[4]
    assert objects[0]["results"] and objects[4]["results"]


def test_search_stdin_text_prints_each_question_above_its_answers(old_index: Path,
                                                                  run_cli: RunCli) -> None:
    asked = [QUESTIONS[0], "", QUESTIONS[4]]
    done = run_cli(old_index, "search", "-", input="\n".join(asked) + "\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("Q: ")]
    assert [lines[i][3:] for i in heads] == asked
    first, blank, last = heads
    assert any(line.startswith("1. “") for line in lines[first:blank])
    assert any("Ask a question in words" in line for line in lines[blank:last])
    assert any(line.startswith("1. “") for line in lines[last:])
