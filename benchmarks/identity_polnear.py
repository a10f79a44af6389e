"""Benchmark entity and speaker identity on the PolNeAR train texts (issue 15's measures).

Runs the English model over the article files, builds entity rows as the
pipeline does, resolves them over the corpus (``transforms.lib.resolution``)
and prints, on its last line:

* ``surname_only``: share of PERSON mentions whose resolved name is one word
  while the corpus has exactly one multi-word PERSON name ending in that word;
* ``label_leaks``: share of ORG/GPE/NORP mentions whose text is the last word
  of a PERSON name of the same article;
* ``top_persons_dupes``: rows of the top 25 persons that are the same person as
  another row (same first and last name, or a one-word name that fits exactly
  one other row); ``persons_in_orgs``: rows of the top 25 organisations whose
  name is a top-100 person's name or its last word;
* the quote benchmark's span F1, end-to-end F1 and speaker accuracy
  (``benchmarks/quotes_polnear.py``, same scorer).

``--docbin FILE`` keeps the parsed docs in a spaCy DocBin: the first run writes
it, later runs read it and skip the model (for iterating on rules only).

Usage: python benchmarks/identity_polnear.py [--limit N] [--docbin FILE] [--top N]
Exits 0 with a "skipped" message when ../shared/evaldata is absent.
"""

import argparse
import json
import pathlib
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.quotes_polnear import SCORER, TEXTS, _score, _scored_attributions  # noqa: E402

_SCORE_LINE = re.compile(
    r"F1=(?P<span>[\d.]+).*?speaker accuracy on matched quotes=(?P<acc>[\d.]+);"
    r".*?F1=(?P<e2e>[\d.]+)",
    re.DOTALL,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--docbin", type=pathlib.Path, default=None, help="parsed-docs cache")
    parser.add_argument("--top", type=int, default=10, help="persons and organisations to print")
    args = parser.parse_args(argv)
    for needed in (TEXTS, SCORER):
        if not needed.exists():
            print(f"skipped: {needed} absent")
            return 0

    from transforms.lib.entities import entity_rows
    from transforms.lib.quotes import find_quotes

    paths = sorted(TEXTS.glob("*.txt"))[: args.limit]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    started = time.perf_counter()
    docs = _docs(texts, args.docbin)
    nlp_seconds = time.perf_counter() - started

    started = time.perf_counter()
    articles = []
    for path, doc in zip(paths, docs, strict=True):
        entities = entity_rows(doc)
        quotes = find_quotes(doc, entities)
        articles.append((path.stem, entities, quotes))
    rule_seconds = time.perf_counter() - started

    measures, persons, organisations = identity_measures(articles)
    print(f"articles={len(paths)}")
    print("top persons (resolved name, mentions, articles, folded share):")
    for name, mentions, in_articles, folded in persons[: args.top]:
        print(f"  {name:<32} {mentions:>6} {in_articles:>5} {folded:>6.0%}")
    print("top organisations:")
    for name, mentions, in_articles, folded in organisations[: args.top]:
        print(f"  {name:<32} {mentions:>6} {in_articles:>5} {folded:>6.0%}")

    out = pathlib.Path(tempfile.gettempdir()) / "identity_polnear_pred.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for path, (_, _entities, quotes) in zip(paths, articles, strict=True):
            record = {"doc_id": path.stem, "quotes": _scored_attributions(path, quotes)}
            f.write(json.dumps(record) + "\n")
    scored = _score(out, [], limit_ids={p.stem for p in paths} if args.limit else None)
    print(scored)
    match = _SCORE_LINE.search(scored)
    quote = (
        {"quote_span_f1": match["span"], "quote_e2e_f1": match["e2e"], "speaker_acc": match["acc"]}
        if match
        else {}
    )
    print(f"time: docs {nlp_seconds:.1f}s, rules {rule_seconds:.1f}s")
    print(
        " ".join(f"{key}={value}" for key, value in measures.items())
        + " "
        + " ".join(f"{key}={value}" for key, value in quote.items())
    )
    return 0


def _docs(texts: list[str], cache: pathlib.Path | None):
    """Parsed docs of ``texts``: from ``cache`` when it holds them, else from the model."""
    from spacy.tokens import DocBin

    from transforms.lib.nlp import load_model

    nlp = load_model()
    if cache is not None and cache.exists():
        docs = list(DocBin().from_bytes(cache.read_bytes()).get_docs(nlp.vocab))
        if [d.text for d in docs[: len(texts)]] == texts:
            return docs[: len(texts)]
    docs = list(nlp.pipe(texts))
    if cache is not None:
        store = DocBin()
        for doc in docs:
            store.add(doc)
        cache.write_bytes(store.to_bytes())
    return docs


def identity_measures(articles, *, top: int = 25):
    """The four identity measures over ``(doc_id, entity rows, quote rows)`` of each article,
    and the resolved person and organisation rankings ``(name, mentions, articles, folded)``."""
    from transforms.lib.entities import name_parts, normalise, same_person
    from transforms.lib.resolution import resolve, totals_of

    rows = [{**row, "article_id": doc_id} for doc_id, entities, _ in articles for row in entities]
    resolution = resolve(totals_of(rows))

    def resolved(row):
        r = resolution[row["entity_id"]]
        return r.resolved_id, r.resolved_name, r.resolved_label

    # surname_only
    person_rows = [row for row in rows if resolved(row)[2] == "PERSON"]
    full_names_by_last = defaultdict(set)
    for row in person_rows:
        _first, _, last = name_parts(resolved(row)[1])
        if last:
            full_names_by_last[last].add(normalise(resolved(row)[1]))
    surname_only = sum(
        1
        for row in person_rows
        if " " not in normalise(resolved(row)[1])
        and len(full_names_by_last.get(normalise(resolved(row)[1]), ())) == 1
    )

    # label_leaks, per article
    leaks = others = 0
    by_article = defaultdict(list)
    for row in rows:
        by_article[row["article_id"]].append(row)
    for article_rows in by_article.values():
        lasts = {
            name_parts(resolved(r)[1])[2] or normalise(resolved(r)[1])
            for r in article_rows
            if resolved(r)[2] == "PERSON" and " " in normalise(resolved(r)[1])
        }
        for row in article_rows:
            if resolved(row)[2] in ("ORG", "GPE", "NORP"):
                others += 1
                leaks += normalise(row["canonical"]) in lasts

    persons = _ranking(rows, resolved, "PERSON")
    organisations = _ranking(rows, resolved, "ORG")
    top_persons = [name for name, *_ in persons[:top]]
    dupes = 0
    for i, name in enumerate(top_persons):
        others_top = top_persons[:i] + top_persons[i + 1 :]
        words = normalise(name).split()
        if len(words) > 1:
            dupes += any(same_person(name, other) for other in others_top)
        else:
            fits = [o for o in others_top if words[0] in (name_parts(o)[0], name_parts(o)[2])]
            dupes += len(fits) == 1
    known = set()
    for name, *_ in persons[:100]:
        known.add(normalise(name))
        if name_parts(name)[2]:
            known.add(name_parts(name)[2])
    in_orgs = sum(normalise(name) in known for name, *_ in organisations[:top])
    measures = {
        "surname_only": f"{surname_only / max(len(person_rows), 1):.3f}",
        "label_leaks": f"{leaks / max(others, 1):.3f}",
        "top_persons_dupes": dupes,
        "persons_in_orgs": in_orgs,
    }
    return measures, persons, organisations


def _ranking(rows, resolved, label):
    mentions, articles, folded, names = Counter(), defaultdict(set), Counter(), {}
    for row in rows:
        key, name, resolved_label = resolved(row)
        if resolved_label != label:
            continue
        mentions[key] += 1
        articles[key].add(row["article_id"])
        folded[key] += name.casefold() not in row["text"].casefold()
        names[key] = name
    ranked = sorted(mentions, key=lambda k: (-mentions[k], -len(articles[k]), names[k]))
    return [(names[k], mentions[k], len(articles[k]), folded[k] / mentions[k]) for k in ranked]


if __name__ == "__main__":
    sys.exit(main())
