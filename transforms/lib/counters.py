"""The names of the run's counters, declared once, and the sums of count records.

The DoFns count under these names: count records that travel with the data
to the commit step, and Beam metrics in the ``newsbeam`` namespace for
runner UIs. ``pipelines.report.stage_counts`` reads them;
``tests/unit/test_names.py`` checks that every one is read.
"""

from collections.abc import Iterable

NAMESPACE = "newsbeam"

READ_FILES = "read.files"
READ_RECORDS = "read.records"
READ_ERRORS = "read.errors"
# Lone surrogates in JSON strings, kept as U+FFFD (see formats.parse_json_object).
READ_REPAIRED_CHARACTERS = "read.repaired_characters"

FEEDS_READ = "feeds.read"
FEEDS_NOT_MODIFIED = "feeds.not_modified"
FEEDS_RECORDS = "feeds.records"
FEEDS_ENTRIES_SEEN_BEFORE = "feeds.entries_seen_before"
FEEDS_ERRORS = "feeds.errors"

# Pages named directly (--urls, --sitemap): a page fetched is an input record, like a
# feed entry; one that cannot be fetched, or a sitemap that cannot be read, a read error.
PAGES_LISTED = "pages.listed"
PAGES_SITEMAPS = "pages.sitemaps"
PAGES_RECORDS = "pages.records"
PAGES_ERRORS = "pages.errors"

FETCH_PAGES = "fetch.pages"
FETCH_TEXT_REPLACED = "fetch.text_replaced"
FETCH_ERRORS = "fetch.errors"  # pages whose record went on with the feed's text

NORMALIZE_ARTICLES = "normalize.articles"
NORMALIZE_ERRORS = "normalize.errors"
NORMALIZE_WARNINGS = "normalize.warnings"  # articles kept despite a problem (a dropped date)

DEDUPE_UNIQUE = "dedupe.unique"
DEDUPE_DUPLICATES = "dedupe.duplicates"
DEDUPE_ALREADY_IN_OUTPUT = "dedupe.already_in_output"
# Committed articles files whose ids could not be read (warnings, not input records).
DEDUPE_ERRORS = "dedupe.errors"

ENRICH_ARTICLES = "enrich.articles"
ENRICH_ENTITIES = "enrich.entities"
ENRICH_QUOTES = "enrich.quotes"
ENRICH_ERRORS = "enrich.errors"
# Articles of a language no model was given for, per language: ``not_enriched(language)``.
ENRICH_NOT_ENRICHED_PREFIX = "enrich.not_enriched."

# Errors rows not written: the same input failed the same way in an earlier run, or the
# row warns about an article the run dropped as already in the output.
ERRORS_SEEN_BEFORE = "errors.seen_before"
ERRORS_DUPLICATE_WARNINGS = "errors.duplicate_warnings"

RESOLVE_ROWS = "resolve.rows"
RESOLVE_RESOLVED = "resolve.resolved"

# newsbeam reprocess: articles read back to enrich again, committed files replaced, and
# articles the model failed on, kept as they were.
REPROCESS_ARTICLES = "reprocess.articles"
REPROCESS_FILES_REPLACED = "reprocess.files_replaced"
REPROCESS_KEPT_AS_THEY_WERE = "reprocess.kept_as_they_were"

WRITE_FILES = "write.files"
WRITTEN_TABLES = ("articles", "entities", "quotes", "errors", "entity_resolution")


def write_rows(table: str) -> str:
    """The counter of rows written to ``table``: ``write.articles.rows``."""
    return f"write.{table}.rows"


def not_enriched(language: str) -> str:
    """The counter of articles in ``language`` written without NLP: ``enrich.not_enriched.de``."""
    return ENRICH_NOT_ENRICHED_PREFIX + language


def all_names() -> list[str]:
    """Every counter newsbeam emits."""
    fixed = [value for name, value in globals().items() if name.isupper() and "." in str(value)]
    return fixed + [write_rows(table) for table in WRITTEN_TABLES]


def add_up(records: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``(name, amount)`` count records to each name's total."""
    totals: dict[str, int] = {}
    for name, amount in records:
        totals[name] = totals.get(name, 0) + amount
    return totals


def written(files: Iterable[dict]) -> dict[str, int]:
    """The write counters of a run, from the records of the files it wrote (table, rows)."""
    totals = {write_rows(table): 0 for table in WRITTEN_TABLES}
    files = list(files)
    for file in files:
        name = write_rows(file["table"])
        totals[name] = totals.get(name, 0) + file["rows"]
    totals[WRITE_FILES] = len(files)
    return totals
