"""Run ``transforms.lib.feeds.parse_feed`` over feedparser's own test corpus.

Every file must either yield article records or be rejected with a reason
(an errors row in a real run); nothing may crash or hang. Prints how many
files yield articles, how many yield only rejected entries, the reasons
for whole-file rejections, and the slowest file.

Usage: python benchmarks/feed_corpus.py [--corpus DIR]
Exits 0 with a "skipped" message when ../shared/evaldata is absent, and 1
when a file crashes the parser.
"""

import argparse
import collections
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "evaldata" / "feedparser_tests" / "tests"


def survey(corpus: pathlib.Path) -> dict:
    """Outcome counts over every .xml and .json file under ``corpus``."""
    from transforms.lib.feeds import parse_feed
    from transforms.lib.records import Rejected

    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in {".xml", ".json"})
    outcomes = collections.Counter()
    reasons = collections.Counter()
    crashes = []
    slowest = (0.0, None)
    for path in files:
        started = time.perf_counter()
        try:
            results, _info = parse_feed(path.read_bytes(), feed_url=None, origin=str(path))
        except Rejected as reject:
            outcomes["file rejected"] += 1
            reasons[reject.error_type] += 1
            continue
        except Exception as exc:
            crashes.append(f"{path.relative_to(corpus)}: {type(exc).__name__}: {exc}")
            continue
        finally:
            slowest = max(slowest, (time.perf_counter() - started, path.relative_to(corpus)))
        if any(isinstance(r, dict) for r in results):
            outcomes["yield articles"] += 1
        else:
            outcomes["only rejected entries"] += 1
        reasons.update(r.error_type for r in results if isinstance(r, Rejected))
    return {
        "files": len(files),
        "outcomes": outcomes,
        "reasons": reasons,
        "crashes": crashes,
        "slowest": slowest,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=pathlib.Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: {args.corpus} is absent")
        return 0
    sys.path.insert(0, str(REPO))
    started = time.perf_counter()
    report = survey(args.corpus)
    elapsed = time.perf_counter() - started
    outcomes = report["outcomes"]
    print(
        f"feedparser corpus: {outcomes['yield articles']} of {report['files']} files yield articles"
    )
    print(f"  only rejected entries: {outcomes['only rejected entries']}")
    print(f"  whole file rejected:   {outcomes['file rejected']}")
    print("  reasons: " + ", ".join(f"{k} {v}" for k, v in report["reasons"].most_common()))
    print(f"  crashes: {len(report['crashes'])}")
    for crash in report["crashes"]:
        print(f"    {crash}")
    seconds, path = report["slowest"]
    print(f"  {elapsed:.1f} s in all; slowest file {path} ({seconds * 1000:.0f} ms)")
    return 1 if report["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
