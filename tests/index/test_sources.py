"""Sources: every kind of input becomes articles with the right text, metadata and identity."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pytest

from index.ingest import ingest
from index.sources import sample_dir
from index.urls import canonical_url

SAMPLE = sample_dir()

CANONICAL_STORY = "https://news.example.com/2025/03/quillport-ruling"


def _items(writers, links: list[str], topic: str = "Quillport") -> list[dict[str, str]]:
    return [{"title": f"{topic} story {n}", "link": link, "date": f"Mon, 0{n + 1} Mar 2025 10:00:00 GMT",
             "body": writers.body(f"{topic} {n}", 8)} for n, link in enumerate(links)]


# --------------------------------------------------------------------------- each source kind

@pytest.mark.asyncio
async def test_html_page_file_is_ingested(tmp_path, encoder, settings_for, live, writers):
    src = tmp_path / "src"
    src.mkdir()
    body = writers.body("Quillport", 8).split("\n")
    (src / "story.html").write_text(writers.html(title="Quillport court hears AI case",
                                                 paragraphs=body, canonical=CANONICAL_STORY))
    data = tmp_path / "data"
    summary = await ingest([str(src)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    row = live(data).article(CANONICAL_STORY)
    assert row["kind"] == "page"
    assert row["title"] == "Quillport court hears AI case"
    assert row["text"] == "\n".join(body)


@pytest.mark.asyncio
async def test_markdown_file_with_front_matter_is_ingested(tmp_path, encoder, settings_for, live,
                                                          writers):
    body = writers.body("Marrowfield", 8)
    path = writers.markdown(tmp_path / "src" / "marrowfield.md", title="Marrowfield authors sue",
                            url="https://gazette.example.net/marrowfield", body=body,
                            published="2024-06-02", outlet="The Test Gazette")
    data = tmp_path / "data"
    summary = await ingest([str(path)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    row = live(data).article("https://gazette.example.net/marrowfield")
    assert (row["kind"], row["title"], row["outlet"], row["published"]) == (
        "markdown", "Marrowfield authors sue", "The Test Gazette", "2024-06-02")
    assert row["text"] == body


@pytest.mark.asyncio
async def test_rss_file_with_content_encoded_is_ingested(tmp_path, encoder, settings_for, live,
                                                        writers):
    links = ["https://wire.example.org/a", "https://wire.example.org/b"]
    feed = tmp_path / "src" / "wire.rss"
    feed.parent.mkdir()
    feed.write_text(writers.rss(_items(writers, links), title="Test Wire"))
    data = tmp_path / "data"
    summary = await ingest([str(feed)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (2, 0), summary.failures
    rows = live(data).articles()
    assert set(rows) == set(links)
    first = rows[links[0]]
    assert (first["kind"], first["title"], first["outlet"], first["published"]) == (
        "feed", "Quillport story 0", "Test Wire", "2025-03-01")
    assert first["text"] == writers.body("Quillport 0", 8)


@pytest.mark.asyncio
async def test_atom_file_with_content_is_ingested(tmp_path, encoder, settings_for, live, writers):
    items = [{"title": "Atom item one", "link": "https://atom.example.org/one",
              "date": "2025-02-03T08:00:00Z", "body": writers.body("Fernwick", 7)},
             {"title": "Atom item two", "link": "https://atom.example.org/two",
              "date": "2025-02-04T08:00:00Z", "body": writers.body("Oakhollow", 7)}]
    feed = tmp_path / "src" / "feed.atom"
    feed.parent.mkdir()
    feed.write_text(writers.atom(items, title="Atom Times"))
    data = tmp_path / "data"
    summary = await ingest([str(feed)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (2, 0), summary.failures
    row = live(data).article("https://atom.example.org/two")
    assert (row["kind"], row["title"], row["outlet"], row["published"]) == (
        "feed", "Atom item two", "Atom Times", "2025-02-04")
    assert row["text"] == writers.body("Oakhollow", 7)


@pytest.mark.asyncio
async def test_directory_holding_every_kind_is_ingested_recursively(tmp_path, encoder,
                                                                   settings_for, live, writers):
    src = tmp_path / "src"
    (src / "pages").mkdir(parents=True)
    (src / "feeds" / "deep").mkdir(parents=True)
    shutil.copy(SAMPLE / "japan-asks-openai-sora2.html", src / "pages")
    shutil.copy(SAMPLE / "bartz-anthropic-fair-use-ruling.md", src)
    (src / "feeds" / "wire.xml").write_text(
        writers.rss(_items(writers, ["https://wire.example.org/x", "https://wire.example.org/y"])))
    (src / "feeds" / "deep" / "times.atom").write_text(writers.atom(
        [{"title": "Deep atom", "link": "https://atom.example.org/deep", "date": "2025-02-03T08:00:00Z",
          "body": writers.body("Fernwick", 7)}]))
    data = tmp_path / "data"
    summary = await ingest([str(src)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (5, 0), summary.failures
    kinds = sorted(r["kind"] for r in live(data).articles().values())
    assert kinds == ["feed", "feed", "feed", "markdown", "page"]


# --------------------------------------------------------------------------- feed items and pages

@pytest.mark.asyncio
async def test_feed_item_linking_to_a_page_in_the_same_run_is_one_article(
        tmp_path, encoder, settings_for, live, writers):
    src = tmp_path / "src"
    src.mkdir()
    page_text = writers.body("Quillport", 8).split("\n")
    (src / "story.html").write_text(writers.html(title="Quillport court hears AI case",
                                                 paragraphs=page_text, canonical=CANONICAL_STORY))
    tracked = CANONICAL_STORY.replace("news.example.com", "NEWS.example.com") + "/?utm_source=rss#top"
    (src / "wire.rss").write_text(writers.rss(_items(writers, [tracked], topic="Copy")))
    data = tmp_path / "data"
    summary = await ingest([str(src)], settings_for(data), encoder)
    assert summary.failed == 0, summary.failures
    rows = live(data).articles()
    assert list(rows) == [CANONICAL_STORY]
    assert rows[CANONICAL_STORY]["text"] == "\n".join(page_text), "the page's text wins"


@pytest.mark.asyncio
async def test_feed_item_linking_to_an_already_ingested_page_is_one_article(
        tmp_path, encoder, settings_for, live, writers):
    page = tmp_path / "page"
    page.mkdir()
    (page / "story.html").write_text(writers.html(
        title="Quillport court hears AI case", paragraphs=writers.body("Quillport", 8).split("\n"),
        canonical=CANONICAL_STORY))
    feed = tmp_path / "wire.rss"
    feed.write_text(writers.rss(_items(writers, [CANONICAL_STORY + "?utm_campaign=x"], topic="Copy")))
    data = tmp_path / "data"
    settings = settings_for(data)
    await ingest([str(page)], settings, encoder)
    summary = await ingest([str(feed)], settings, encoder)
    assert summary.new == 0
    assert list(live(data).articles()) == [CANONICAL_STORY]


@pytest.mark.asyncio
async def test_feed_copy_does_not_replace_the_text_of_an_already_ingested_page(
        tmp_path, encoder, settings_for, live, writers):
    page_text = writers.body("Quillport", 8).split("\n")
    page = tmp_path / "page"
    page.mkdir()
    (page / "story.html").write_text(writers.html(title="Quillport court hears AI case",
                                                  paragraphs=page_text, canonical=CANONICAL_STORY))
    feed = tmp_path / "wire.rss"
    feed.write_text(writers.rss(_items(writers, [CANONICAL_STORY], topic="Copy")))
    data = tmp_path / "data"
    settings = settings_for(data)
    await ingest([str(page)], settings, encoder)
    await ingest([str(feed)], settings, encoder)
    row = live(data).article(CANONICAL_STORY)
    assert (row["kind"], row["text"]) == ("page", "\n".join(page_text))


# --------------------------------------------------------------------------- URLs on 127.0.0.1

@pytest.mark.asyncio
async def test_feed_url_with_full_text_items_is_ingested_without_fetching_pages(
        tmp_path, encoder, net_settings, live, writers, http_server):
    links = [http_server.url("/story/1"), http_server.url("/story/2")]
    for link in links:  # the pages exist, but the feed already carries the full text
        http_server.page(link.split(str(http_server.port))[1], writers.html(
            title="page", paragraphs=writers.body("Unused", 8).split("\n")))
    feed_url = http_server.page("/feed.xml", writers.rss(_items(writers, links)),
                                content_type="application/rss+xml")
    data = tmp_path / "data"
    summary = await ingest([feed_url], net_settings(data), encoder)
    assert (summary.new, summary.failed) == (2, 0), summary.failures
    rows = live(data).articles()
    assert set(rows) == {canonical_url(u) for u in links}
    assert rows[canonical_url(links[1])]["text"] == writers.body("Quillport 1", 8)
    assert http_server.hits["/feed.xml"] == 1
    assert http_server.hits["/story/1"] == http_server.hits["/story/2"] == 0


@pytest.mark.asyncio
async def test_summary_only_feed_url_fetches_the_linked_page(tmp_path, encoder, net_settings, live,
                                                            writers, http_server):
    page_text = writers.body("Marrowfield", 9).split("\n")
    http_server.page("/pages/a", writers.html(title="Marrowfield authors sue", paragraphs=page_text,
                                              canonical=CANONICAL_STORY))
    feed_url = http_server.page("/summary.rss", writers.rss(
        _items(writers, [http_server.url("/pages/a")]), full_text=False),
        content_type="application/rss+xml")
    data = tmp_path / "data"
    summary = await ingest([feed_url], net_settings(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    assert http_server.hits["/pages/a"] == 1
    row = live(data).article(CANONICAL_STORY)
    assert (row["kind"], row["title"], row["text"]) == ("page", "Marrowfield authors sue",
                                                        "\n".join(page_text))


@pytest.mark.asyncio
async def test_summary_only_item_linking_to_an_ingested_page_is_not_fetched_again(
        tmp_path, encoder, net_settings, live, writers, http_server):
    page_url = http_server.page("/pages/b", writers.html(
        title="Oakhollow ruling", paragraphs=writers.body("Oakhollow", 8).split("\n")))
    feed_url = http_server.page("/summary.rss", writers.rss(
        _items(writers, [page_url + "?utm_source=feed"]), full_text=False),
        content_type="application/rss+xml")
    data = tmp_path / "data"
    settings = net_settings(data)
    await ingest([page_url], settings, encoder)
    summary = await ingest([feed_url], settings, encoder)
    assert (summary.new, summary.failed) == (0, 0), summary.failures
    assert http_server.hits["/pages/b"] == 1
    assert list(live(data).articles()) == [canonical_url(page_url)]


@pytest.mark.asyncio
async def test_article_page_url_is_ingested_under_its_own_url(tmp_path, encoder, net_settings, live,
                                                              writers, http_server):
    page_text = writers.body("Fernwick", 8).split("\n")
    url = http_server.page("/articles/fernwick", writers.html(title="Fernwick case",
                                                              paragraphs=page_text))
    data = tmp_path / "data"
    summary = await ingest([url], net_settings(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    row = live(data).article(canonical_url(url))
    assert row["text"] == "\n".join(page_text)


# --------------------------------------------------------------------------- metadata

SAMPLE_METADATA = [
    ("japan-asks-openai-sora2.html",
     "https://www.gamesradar.com/entertainment/anime-shows/japanese-government-officials-say-manga-"
     "and-anime-are-irreplaceable-treasures-ask-openai-to-prevent-copyright-infringement-and-insist-"
     "japan-should-take-the-lead-in-regulating-ai",
     "Japan formally asks OpenAI to keep Sora 2 from infringing anime and manga",
     "GamesRadar+", "2025-10-15", "page"),
    ("warner-bros-discovery-sues-midjourney.html",
     "https://www.tweaktown.com/news/107577/warner-bros-discovery-joins-the-list-of-companies-suing-"
     "midjourney-ai/index.html",
     "Warner Bros. Discovery sues Midjourney over Superman, Batman and Bugs Bunny images",
     "TweakTown", "2025-09-04", "page"),
    ("anthropic-settlement-syndicated.md",
     "https://www.springfieldnewssun.com/news/nation-world/judge-reviews-15b-anthropic-settlement-"
     "proposal-with-authors-over-pirated-books-for-ai-training/2V6VI4RRDNLO5P2RDIODXJRYGA",
     "Judge questions Anthropic's $1.5B settlement with authors over pirated books",
     "Springfield News-Sun", "2025-09-08", "markdown"),
]


@pytest.mark.parametrize(("name", "url", "title", "outlet", "published", "kind"), SAMPLE_METADATA,
                         ids=[m[0] for m in SAMPLE_METADATA])
def test_sample_metadata_is_extracted(sample_index, live, name, url, title, outlet, published, kind):
    row = live(sample_index).article(url)
    assert (row["title"], row["outlet"], row["published"], row["kind"]) == (
        title, outlet, published, kind)
    assert row["source"].endswith(name)


def test_outlet_name_keeps_its_capitalization(sample_index, live):
    row = live(sample_index).article(
        "https://860amtheanswer.com/business/judge-approves-15-billion-copyright-settlement-between-"
        "ai-company-anthropic-and/9643064e847a5e88ef6ee8b620b3a44c")
    assert row["outlet"] == "860 AM The Answer"


@pytest.mark.asyncio
async def test_og_url_is_the_canonical_url_when_there_is_no_link_rel_canonical(
        tmp_path, encoder, settings_for, live, writers):
    src = tmp_path / "src"
    src.mkdir()
    (src / "p.html").write_text(writers.html(
        title="Quillport court hears AI case", paragraphs=writers.body("Quillport", 8).split("\n"),
        og_url="https://og.example.com/quillport/"))
    data = tmp_path / "data"
    await ingest([str(src)], settings_for(data), encoder)
    assert list(live(data).articles()) == ["https://og.example.com/quillport"]


@pytest.mark.asyncio
async def test_link_rel_canonical_wins_over_og_url(tmp_path, encoder, settings_for, live, writers):
    src = tmp_path / "src"
    src.mkdir()
    (src / "p.html").write_text(writers.html(
        title="Quillport court hears AI case", paragraphs=writers.body("Quillport", 8).split("\n"),
        canonical=CANONICAL_STORY, og_url="https://og.example.com/other"))
    data = tmp_path / "data"
    await ingest([str(src)], settings_for(data), encoder)
    assert list(live(data).articles()) == [CANONICAL_STORY]


@pytest.mark.asyncio
async def test_outlet_falls_back_to_the_host_without_www(tmp_path, encoder, settings_for, live,
                                                         writers):
    src = tmp_path / "src"
    src.mkdir()
    (src / "p.html").write_text(writers.html(
        title="Quillport court hears AI case", paragraphs=writers.body("Quillport", 8).split("\n"),
        canonical="https://www.quillport-herald.example/story", site_name=None))
    data = tmp_path / "data"
    await ingest([str(src)], settings_for(data), encoder)
    assert live(data).article("https://www.quillport-herald.example/story")["outlet"] == \
        "quillport-herald.example"


@pytest.mark.asyncio
async def test_windows_1252_page_keeps_its_accented_text(tmp_path, encoder, settings_for, live):
    src = tmp_path / "src"
    src.mkdir()
    paragraph = ("Le café numéro {n} a déposé une plainte contre l’entreprise à Montréal, "
                 "selon les documents déposés au tribunal jeudi.")
    body = "".join(f"<p>{paragraph.format(n=n)}</p>" for n in range(6))
    html = ('<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Café</title>'
            '<link rel="canonical" href="https://cafe.example.ca/plainte"></head>'
            f"<body><article><h1>Café</h1>{body}</article></body></html>")
    (src / "cafe.html").write_bytes(html.encode("cp1252"))
    data = tmp_path / "data"
    summary = await ingest([str(src)], settings_for(data), encoder)
    assert summary.failed == 0, summary.failures
    text = live(data).article("https://cafe.example.ca/plainte")["text"]
    assert text.split("\n")[0] == paragraph.format(n=0)


# --------------------------------------------------------------------------- junk-wrapped pages

JUNK = ["Buy product", "ukulele", "Ukulele", "drum kit", "Drum Kit", "cookie", "Cookie",
        "Accept all", "Related stories", "Related", "Comments", "pixelpusher88", "maplewatcher",
        "Honestly surprised WB", "About time. Local papers", "newsletter", "Newsletter",
        "Subscribe", "Sign up", "Most read", "Advertisement", "Sponsored", "All rights reserved",
        "Steam hardware survey", "Black Friday", "By Staff Reporter", "Privacy policy"]


def _article_paragraphs(path: Path) -> str:
    """The page's own article body, read straight from its <article> element."""
    tree = lxml.html.fromstring(path.read_bytes())
    paras = tree.xpath("//article//p[not(contains(@class, 'byline'))]")
    return "\n".join(" ".join(p.text_content().split()) for p in paras)


@pytest.mark.parametrize("name", ["warner-bros-discovery-sues-midjourney.html",
                                  "canadian-news-publishers-sue-openai.html"])
def test_junk_wrapped_page_yields_only_its_article_text(sample_index, live, name):
    rows = [r for r in live(sample_index).articles().values() if r["source"].endswith(name)]
    assert len(rows) == 1
    text = rows[0]["text"]
    leaked = [junk for junk in JUNK if junk in text]
    assert not leaked, f"page junk in the article text: {leaked}"
    assert text == _article_paragraphs(SAMPLE / name)


# --------------------------------------------------------------------------- URL identity

@pytest.mark.parametrize("variant", [
    "https://news.example.com/2025/03/quillport-ruling/",
    "HTTPS://NEWS.Example.COM/2025/03/quillport-ruling",
    "https://news.example.com/2025/03/quillport-ruling#comments",
    "https://news.example.com/2025/03/quillport-ruling?utm_source=twitter&utm_medium=social",
    "https://news.example.com:443/2025/03/quillport-ruling?fbclid=abc123",
    "  https://news.example.com/2025/03/quillport-ruling/?utm_campaign=x#top  ",
])
def test_url_variants_normalize_to_one_identity(variant):
    assert canonical_url(variant) == CANONICAL_STORY


def test_meaningful_query_parameters_keep_urls_apart():
    a = canonical_url("https://news.example.com/story?id=5&utm_source=x")
    b = canonical_url("https://news.example.com/story?id=6")
    assert a == "https://news.example.com/story?id=5"
    assert a != b


@pytest.mark.asyncio
async def test_two_links_to_one_article_are_one_article(tmp_path, encoder, settings_for, live,
                                                        writers):
    src = tmp_path / "src"
    writers.markdown(src / "a.md", title="Quillport", body=writers.body("Quillport", 8),
                     url="https://News.Example.com/2025/03/quillport-ruling/?utm_source=newsletter")
    writers.markdown(src / "b.md", title="Quillport", body=writers.body("Quillport", 8),
                     url="https://news.example.com/2025/03/quillport-ruling#section-2")
    data = tmp_path / "data"
    summary = await ingest([str(src)], settings_for(data), encoder)
    assert (summary.new, summary.failed) == (1, 0), summary.failures
    assert list(live(data).articles()) == [CANONICAL_STORY]
