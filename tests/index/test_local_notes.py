"""Local notes: a Markdown or plain-text file without a URL of its own is indexed under its
file:// URL, titled by its first heading or file name, dated only when its front matter says
so, and shown as a local document in answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import render
from index.ingest import ingest
from index.service import DocketIndex

LOCAL_OUTLET = "local document"
NOTE_BODY = ("The Quillport licensing talks stalled over the price of the archive.\n"
             "Counsel for the Quillport authors expects a ruling on the motion in the spring.")


def _note(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.asyncio
async def test_markdown_note_without_front_matter_is_titled_by_its_heading(
        tmp_path, encoder, settings_for, live):
    path = _note(tmp_path / "notes" / "quillport-call.md",
                 "# Call with Quillport counsel\n\n" + NOTE_BODY.replace("\n", "\n\n") + "\n")
    data = tmp_path / "data"
    summary = await ingest([str(path)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    row = live(data).article(path.resolve().as_uri())
    assert (row["title"], row["outlet"], row["published"], row["kind"]) == (
        "Call with Quillport counsel", LOCAL_OUTLET, None, "markdown")
    assert row["text"] == NOTE_BODY  # the heading is the title, not repeated in the text


@pytest.mark.asyncio
async def test_note_without_a_heading_is_titled_by_its_file_name(tmp_path, encoder, settings_for,
                                                                live):
    path = _note(tmp_path / "notes" / "marrowfield-notes.md", NOTE_BODY + "\n")
    data = tmp_path / "data"
    summary = await ingest([str(path)], settings_for(data), encoder)
    assert summary.failed == 0, summary.failures
    assert live(data).article(path.resolve().as_uri())["title"] == "marrowfield-notes"


@pytest.mark.asyncio
async def test_plain_text_note_keeps_its_text_as_written(tmp_path, encoder, settings_for, live):
    text = ("Quillport *hearing* notes\nwrapped at a short width.\n\n"
            "# not a heading in plain text\n\n1986. A year, not a list.\n")
    path = _note(tmp_path / "notes" / "hearing.txt", text)
    data = tmp_path / "data"
    summary = await ingest([str(path)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    row = live(data).article(path.resolve().as_uri())
    assert (row["title"], row["kind"], row["published"]) == ("hearing", "text", None)
    assert row["text"] == ("Quillport *hearing* notes wrapped at a short width.\n"
                           "# not a heading in plain text\n1986. A year, not a list.")


@pytest.mark.asyncio
async def test_front_matter_without_url_gives_the_note_its_date_and_title(
        tmp_path, encoder, settings_for, live):
    path = _note(tmp_path / "notes" / "dated.md",
                 "---\ntitle: Quillport status\ndate: 2025-04-02\n---\n\n# Heading kept\n\n"
                 + NOTE_BODY + "\n")
    data = tmp_path / "data"
    summary = await ingest([str(path)], settings_for(data), encoder)
    assert summary.failed == 0, summary.failures
    row = live(data).article(path.resolve().as_uri())
    assert (row["title"], row["published"]) == ("Quillport status", "2025-04-02")
    assert row["text"].startswith("Heading kept\n")


@pytest.mark.asyncio
async def test_a_note_keeps_its_identity_across_runs(tmp_path, encoder, settings_for, live):
    path = _note(tmp_path / "notes" / "same.md", "# Same note\n\n" + NOTE_BODY + "\n")
    data = tmp_path / "data"
    await ingest([str(path)], settings_for(data), encoder)
    path.write_text("# Same note\n\n" + NOTE_BODY + "\nA third sentence was added later.\n",
                    encoding="utf-8")
    summary = await ingest([str(tmp_path / "notes")], settings_for(data), encoder)
    assert (summary.new, summary.updated, summary.failed) == (0, 1, 0), summary.failures
    assert list(live(data).articles()) == [path.resolve().as_uri()]


def test_cli_ingests_a_note_quietly_and_answers_from_it_as_a_local_document(
        tmp_path, run_cli):
    path = _note(tmp_path / "notes" / "quillport.md",
                 "# Quillport settlement call\n\n" + NOTE_BODY.replace("\n", "\n\n") + "\n")
    data = tmp_path / "data"
    done = run_cli(data, "ingest", str(path))
    assert done.returncode == 0, done.stderr
    assert "front matter" not in done.stderr and "failed" not in done.stderr
    assert "1 new" in done.stdout
    answer = run_cli(data, "search", "Why did the Quillport licensing talks stall?")
    assert answer.returncode == 0, answer.stderr
    assert "price of the archive" in answer.stdout
    assert f"— Quillport settlement call · {LOCAL_OUTLET} ·" in answer.stdout
    assert path.resolve().as_uri() in answer.stdout


@pytest.mark.asyncio
async def test_bot_shows_a_note_as_a_local_document_without_a_link(tmp_path, encoder,
                                                                   settings_for):
    path = _note(tmp_path / "notes" / "quillport.md",
                 "# Quillport settlement call\n\n" + NOTE_BODY.replace("\n", "\n\n") + "\n")
    settings = settings_for(tmp_path / "data")
    await ingest([str(path)], settings, encoder)
    index = await DocketIndex(settings, encoder).open()
    try:
        response = await index.search("Why did the Quillport licensing talks stall?")
    finally:
        await index.close()
    [result] = response.results
    assert result.outlet == LOCAL_OUTLET and result.url == path.resolve().as_uri()
    embed = render.answer_embed(response)
    text = (embed.description or "") + "".join(f.value or "" for f in embed.fields)
    assert "Quillport settlement call" in text and LOCAL_OUTLET in text
    assert "file://" not in text  # not a link Discord could open


@pytest.mark.asyncio
async def test_an_empty_note_fails_with_its_reason(tmp_path, encoder, settings_for):
    path = _note(tmp_path / "notes" / "empty.md", "# Only a heading\n")
    summary = await ingest([str(path)], settings_for(tmp_path / "data"), encoder)
    assert [(f["reason"], f["message"]) for f in summary.failures] == [
        ("no_text", f"{path.resolve()}: no text to index")]
