"""``newsbeam reprocess``: enrich articles already in the output again, replacing their rows.

After ``--no-nlp``, a new model, other ``--labels`` or ``--cues``, or a
better newsbeam, the articles already written get new entities and quotes
(and the ``entity_resolution`` rows they need) without being ingested
again. The graph reads the committed files back (``ReadCommittedRows``),
runs the same enrichment and resolution as ``ingest``, and writes through
the same ``WriteTables`` and ``CommitRun``, whose commit takes out every
file that held a row of a reprocessed article: a reader of the committed files sees the old rows
or the new, never both or neither. Each article records what produced its
rows in ``nlp_model`` and ``nlp_version``.
"""

import apache_beam as beam

from pipelines.graph import IngestConfig, model_handler
from transforms import commit, enrich, store
from transforms import reprocess as replacing
from transforms.commit import CommitRun
from transforms.enrich import ExtractEntitiesAndQuotes
from transforms.reprocess import ReadCommittedRows, ReplaceEnrichment
from transforms.resolve import RESOLUTION_TABLE, ReadCurrentResolution, ResolveEntities
from transforms.tagged import COUNTS
from transforms.write import WriteTables

__all__ = ["SelectionError", "build_pipeline", "reprocess", "select_articles", "summary"]


class SelectionError(ValueError):
    """``--where`` cannot select articles, or the output cannot be reprocessed as it is."""


def select_articles(
    output_dir: str, where: str | None, committed=None, *, limit: int | None = None
) -> frozenset[str] | None:
    """The ids of the articles ``where`` (a SQL condition over the ``articles`` view, as in
    ``newsbeam query``) selects in the ``committed`` files (default: those committed now),
    at most ``limit`` of them; None (every article) without a condition.

    Raises ``SelectionError``, in one line, for a condition DuckDB refuses or that is
    more than one condition.
    """
    if where is None:
        return None
    import duckdb

    from pipelines import query

    sql = f"SELECT DISTINCT article_id FROM articles WHERE ({where})"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    try:
        connection = query.connect(output_dir, committed=committed)
        if len(connection.extract_statements(sql)) != 1:
            raise SelectionError(f"--where {where!r}: give one condition, like \"source = 'x'\"")
        return frozenset(row[0] for row in query._select(connection, sql).fetchall())
    except duckdb.Error as exc:
        raise SelectionError(f"--where {where!r}: {' '.join(str(exc).split())}") from None


def check_readable(committed) -> None:
    """Raises ``SelectionError`` naming the committed files of articles, entities or quotes
    whose footer cannot be read: their rows could neither be replaced nor kept."""
    from pipelines import query

    unreadable = [
        path
        for table in replacing.TABLES
        for path in sorted(
            set(committed[table]) - set(query.readable_files(committed[table], table))
        )
    ]
    if unreadable:
        raise SelectionError(
            f"{len(unreadable)} committed file(s) cannot be read, so their rows could be "
            f"neither replaced nor kept: {', '.join(unreadable[:5])}; move them aside first"
        )


def build_pipeline(
    pipeline: beam.Pipeline,
    config: IngestConfig,
    *,
    files: dict[str, list[str]],
    selected: frozenset[str] | None,
):
    """Adds the reprocess graph for the ``selected`` articles (None: all) of the committed
    ``files`` to ``pipeline``; returns the commit step's output, the graph's one sink."""
    read = pipeline | "ReadCommittedRows" >> ReadCommittedRows(
        files, selected=selected, batch_rows=config.limits.arrow_batch_rows
    )
    enriched = read.articles | "ExtractEntitiesAndQuotes" >> ExtractEntitiesAndQuotes(
        model_handler(config), ingested_at=config.ingested_at
    )
    settled = {
        "old": read.articles,
        "new": enriched["articles"],
        "entities": read[replacing.OLD_ENTITIES],
        "quotes": read[replacing.OLD_QUOTES],
    } | "ReplaceEnrichment" >> ReplaceEnrichment()
    current = pipeline | "ReadCurrentResolution" >> ReadCurrentResolution(config.output_dir)
    resolution = (
        enriched[enrich.ENTITIES],
        current,
        settled[replacing.WITHDRAWN],
    ) | "ResolveEntities" >> ResolveEntities(run_id=config.run_id, resolved_at=config.ingested_at)
    tables = {
        "articles": (read[replacing.KEPT["articles"]], settled.articles)
        | "AllArticles" >> beam.Flatten(),
        "entities": (read[replacing.KEPT["entities"]], settled.entities, enriched[enrich.ENTITIES])
        | "AllEntities" >> beam.Flatten(),
        "quotes": (read[replacing.KEPT["quotes"]], settled.quotes, enriched[enrich.QUOTES])
        | "AllQuotes" >> beam.Flatten(),
        RESOLUTION_TABLE: resolution[RESOLUTION_TABLE],
        "errors": enriched[enrich.ERRORS],
    }
    written = tables | "WriteTables" >> WriteTables(
        config.output_dir, run_id=config.run_id, shards=config.shards
    )
    counts = (read[COUNTS], enriched[COUNTS], settled[COUNTS], resolution[COUNTS])
    parts = {
        commit.FILES: written,
        COUNTS: counts | "AllCounts" >> beam.Flatten(),
        commit.REMOVED: read[replacing.REPLACED],
    }
    return parts | "CommitRun" >> CommitRun(config.output_dir, run_id=config.run_id)


def reprocess(session, *, where: str | None, started: float) -> dict | None:
    """One reprocess run in ``session`` (which holds the writer lock); returns its run record,
    None when ``where`` selects no article.

    Raises ``SelectionError`` as ``select_articles`` and ``check_readable`` do.
    """
    config = session.config([])
    committed = store.committed_files(config.output_dir)
    check_readable(committed)
    selected = select_articles(config.output_dir, where, committed)
    if selected is not None and not selected:
        return None

    def build(pipeline, config):
        return build_pipeline(pipeline, config, files=committed, selected=selected)

    return session.run(config, started=started, build=build)


def summary(record: dict | None, *, output_dir: str) -> str:
    """The lines ``newsbeam reprocess`` prints."""
    if record is None:
        return f"newsbeam: no article of {output_dir} matches --where: nothing to reprocess"
    stages = record["stages"]
    kept = stages["reprocess"]["kept_as_they_were"]
    lines = [
        f"newsbeam: reprocess {record['run_id']} finished in {record['elapsed_seconds']:.1f} s",
        f"  articles reprocessed  {stages['reprocess']['articles'] - kept}",
        *(
            [f"  kept as they were     {kept} (the model failed on them: see errors)"]
            if kept
            else []
        ),
        f"  entities              {stages['enrich']['entities']}",
        f"  quotes                {stages['enrich']['quotes']}",
        f"  files replaced        {stages['reprocess']['files_replaced']}",
        f"  files written         {stages['write']['files']}",
        f"  output                {output_dir}",
    ]
    return "\n".join(lines)
