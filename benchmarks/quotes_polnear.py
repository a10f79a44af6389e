"""Benchmark ``transforms.lib.quotes.find_quotes`` on the PolNeAR train split.

Runs the English model over the original article files (so offsets need no
mapping), extracts quotes, writes predictions in the format of
``../shared/tools/score_quotes_polnear.py`` and runs that scorer with and
without ``--named-only``. Also times ``nlp.pipe`` alone against
``find_quotes`` on the same docs.

PolNeAR annotates one attribution per speech event, so predictions are
converted to its shape before scoring:

* the gold keeps only attributions whose content holds a double quote mark
  (" “ ”; every gold content has one, and articles quoting with '' or ‘ ’
  have no gold at all), so the same selection is applied to predictions: a
  direct or partial quote counts when a double mark opens it, an indirect
  quote when its reported clause holds one (it then stands for the partial
  quotes inside it, which are dropped);
* quotes in a row that share a speaker mention and cue (a quote split around
  its cue, or followed on without a cue of its own) form one attribution,
  scored as the span from the first part's start to the last part's end.

Usage: python benchmarks/quotes_polnear.py [--limit N] [--out FILE]
Exits 0 with a "skipped" message when ../shared/evaldata is absent.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POLNEAR = SHARED / "evaldata" / "polnear_train"
TEXTS = POLNEAR / "data" / "train" / "text"
SCORER = SHARED / "tools" / "score_quotes_polnear.py"
DOUBLE_MARK = re.compile(r"[\"“”„«»]")

sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="score only the first N articles")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="predictions JSONL path")
    args = parser.parse_args(argv)
    for needed in (TEXTS, SCORER):
        if not needed.exists():
            print(f"skipped: {needed} absent")
            return 0

    from transforms.lib.entities import entity_rows
    from transforms.lib.nlp import load_model
    from transforms.lib.quotes import find_quotes

    paths = sorted(TEXTS.glob("*.txt"))[: args.limit]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    nlp = load_model()  # the pipeline's model and components

    started = time.perf_counter()
    docs = list(nlp.pipe(texts))
    nlp_seconds = time.perf_counter() - started
    entities = [entity_rows(doc) for doc in docs]
    started = time.perf_counter()
    quotes = [find_quotes(doc, rows) for doc, rows in zip(docs, entities, strict=True)]
    quote_seconds = time.perf_counter() - started

    out = args.out or pathlib.Path(tempfile.gettempdir()) / "quotes_polnear_pred.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for path, found in zip(paths, quotes, strict=True):
            record = {"doc_id": path.stem, "quotes": _scored_attributions(path, found)}
            f.write(json.dumps(record) + "\n")

    print(f"articles={len(paths)} predictions={out}")
    for extra in ([], ["--named-only"]):
        print(f"--- scorer {' '.join(extra) or '(all speakers)'}")
        print(_score(out, extra, limit_ids={p.stem for p in paths} if args.limit else None))
    ratio = quote_seconds / nlp_seconds if nlp_seconds else 0.0
    print(
        f"time: nlp.pipe {nlp_seconds:.1f}s, find_quotes {quote_seconds:.2f}s, "
        f"ratio {ratio:.1%} (target <= 10%)"
    )
    return 0


def _scored_attributions(path: pathlib.Path, quotes: list[dict]) -> list[dict]:
    """Quotes in PolNeAR's shape: one span per attribution (see the module docstring)."""
    text = path.read_text(encoding="utf-8")
    indirect = [
        q
        for q in quotes
        if q["kind"] == "indirect" and DOUBLE_MARK.search(text, q["start_char"], q["end_char"])
    ]
    kept = indirect + [
        q
        for q in quotes
        if q["kind"] != "indirect"
        and DOUBLE_MARK.match(text[: q["start_char"]].rstrip()[-1:] or " ")
        and not any(
            i["start_char"] <= q["start_char"] and q["end_char"] <= i["end_char"] for i in indirect
        )
    ]
    kept.sort(key=lambda q: q["start_char"])
    merged: list[dict] = []
    for q in kept:
        mention = (q["speaker_start"], q["speaker_end"])
        last = merged[-1] if merged else None
        same_event = q["cue"] is None or q["cue"] == (last or {}).get("cue")
        if last and mention[0] is not None and last["mention"] == mention and same_event:
            last["end"] = max(last["end"], q["end_char"])
            continue
        merged.append(
            {
                "start": q["start_char"],
                "end": q["end_char"],
                "speaker": q["speaker_mention"],
                "speaker_start": q["speaker_start"],
                "speaker_end": q["speaker_end"],
                "mention": mention,
                "cue": q["cue"],
            }
        )
    return [{k: v for k, v in m.items() if k not in ("mention", "cue")} for m in merged]


def _score(predictions: pathlib.Path, extra: list[str], limit_ids: set[str] | None) -> str:
    """The scorer's printout; with ``--limit`` the gold is cut to the same articles."""
    command = [sys.executable, str(SCORER), str(predictions), *extra]
    if limit_ids is not None:
        command += ["--root", str(_limited_root(limit_ids))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip()


def _limited_root(doc_ids: set[str]) -> pathlib.Path:
    """A temporary scorer root holding only the chosen articles (symlinks) and their gold."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="polnear_limit_"))
    text_dir = root / "data" / "train" / "text"
    text_dir.mkdir(parents=True)
    for doc_id in doc_ids:
        (text_dir / f"{doc_id}.txt").symlink_to(TEXTS / f"{doc_id}.txt")
    gold = POLNEAR / "polnear_quoted_attributions.jsonl"
    with (root / gold.name).open("w", encoding="utf-8") as out:
        for line in gold.open(encoding="utf-8"):
            if json.loads(line)["doc_id"] in doc_ids:
                out.write(line)
    return root


if __name__ == "__main__":
    sys.exit(main())
