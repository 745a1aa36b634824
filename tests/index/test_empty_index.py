"""An index that holds no story yet: every reading command answers in one sentence."""

from __future__ import annotations

from pathlib import Path


def test_an_empty_index_gets_one_sentence_per_command(run_cli, tmp_path: Path) -> None:
    source = tmp_path / "nothing-yet"
    source.mkdir()
    data = tmp_path / "data"
    built = run_cli(data, "ingest", str(source))
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("articles: 0 new")
    png = tmp_path / "trends.png"
    for args, rc, sentence in (
            (("trends",), 0, "No stories in the index: nothing to chart."),
            (("trends", "--topic", "sora", "--png", str(png)), 0,
             "No stories on “sora” in the index: nothing to chart."),
            (("cases",), 0, "No cases found in the index yet."),
            (("case", "Bartz v. Anthropic"), 1, "No cases found in the index yet."),
            (("latest",), 0, "Nothing in the news index.")):
        proc = run_cli(data, *args)
        assert proc.returncode == rc, (args, proc.stderr)
        assert proc.stdout.strip() == sentence, args
        assert "Traceback" not in proc.stderr
    assert not png.exists()  # no empty chart is drawn
