"""Corpus-level entity resolution: which written ``entity_id`` stands for which person.

``entity_id`` is a pure function of a mention's kind and article-level
canonical name, so it never changes meaning. Across articles one person still
has several ids: ``Obama`` in an article that never writes ``Barack Obama``,
``Donald J. Trump`` beside ``Donald Trump``, ``Trump`` that the model labelled
ORG. ``resolve`` maps every id to a *resolved* id (the id of the full name it
stands for, or itself) from the corpus's cumulative counts. The rules and the
design of the resolution table are in ``docs/ENTITIES.md``; no Beam here.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from transforms.lib.entities import entity_id, kind_of, middles_agree, name_parts, normalise

__all__ = [
    "DOMINANCE",
    "Resolution",
    "Totals",
    "current_state",
    "latest_rows",
    "merge_totals",
    "resolve",
    "totals_of",
]

# A short name resolves to the full name that has at least this share of the full-name
# mentions it could stand for; below it, the name is ambiguous and stays as it is.
DOMINANCE = 0.8
# A one-word name the model labelled ORG or NORP becomes the person only when the corpus
# mentions the person at least this many times more often than the organisation.
PERSON_OVER_OTHER = 3
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]+$")
# Labels whose one-word names may be a person's surname the model mislabelled.
_MISLABELLED_KINDS = frozenset({"org", "group", "product", "work_of_art", "event"})


class Totals(NamedTuple):
    """One entity id over the corpus: its label and name, mentions and articles so far."""

    entity_id: str
    label: str
    canonical: str
    mentions: int
    articles: int


class Resolution(NamedTuple):
    """What an entity id stands for; ``rule`` says why (see ``resolve``)."""

    resolved_id: str
    resolved_name: str
    resolved_label: str
    rule: str


def totals_of(rows: Iterable[Mapping]) -> list[Totals]:
    """Per-id totals of entity rows (``entity_id, label, canonical, article_id``): mentions,
    distinct articles, and the most frequent label and canonical spelling (ties: the first)."""
    labels: dict[str, Counter] = defaultdict(Counter)
    names: dict[str, Counter] = defaultdict(Counter)
    articles: dict[str, set] = defaultdict(set)
    for row in rows:
        entity = row["entity_id"]
        labels[entity][row["label"]] += 1
        names[entity][row["canonical"]] += 1
        articles[entity].add(row["article_id"])
    return [
        Totals(
            entity,
            labels[entity].most_common(1)[0][0],
            names[entity].most_common(1)[0][0],
            labels[entity].total(),
            len(articles[entity]),
        )
        for entity in labels
    ]


def latest_rows(table):
    """Each entity id's latest row of a pyarrow table of ``entity_resolution`` rows: the
    one resolved last (``resolved_at``, then ``run_id``), as a table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows < 2:
        return table
    ordered = table.sort_by(
        [("entity_id", "ascending"), ("resolved_at", "ascending"), ("run_id", "ascending")]
    )
    ids = ordered.column("entity_id")
    last_of_id = pc.not_equal(ids.slice(0, len(ids) - 1), ids.slice(1))
    return ordered.filter(pa.chunked_array([*last_of_id.chunks, pa.array([True])]))


def current_state(table) -> tuple[dict[str, Resolution], dict[str, Totals]]:
    """The resolution and the totals of each id in a pyarrow table of its latest
    ``entity_resolution`` rows (``latest_rows``)."""
    wanted = dict.fromkeys(Totals._fields + Resolution._fields)  # not the times: slow to convert
    columns = table.select(list(wanted)).to_pydict()
    ids = columns["entity_id"]
    resolutions = zip(*(columns[name] for name in Resolution._fields), strict=True)
    totals = zip(*(columns[name] for name in Totals._fields), strict=True)
    return (
        {entity: Resolution(*row) for entity, row in zip(ids, resolutions, strict=True)},
        {row[0]: Totals(*row) for row in totals},
    )


def merge_totals(previous: Totals | None, run: Totals) -> Totals:
    """The corpus totals after a run: counts added, the run's label and name kept."""
    if previous is None:
        return run
    return run._replace(
        mentions=previous.mentions + run.mentions, articles=previous.articles + run.articles
    )


def resolve(
    totals: Iterable[Totals], previous: Mapping[str, Resolution] | None = None
) -> dict[str, Resolution]:
    """The resolution of every id in ``totals``, given the resolutions already written.

    Rules, in order (each id gets the first that applies):

    * ``kept``: an id already resolved to another id keeps that resolution, so a
      row written earlier never silently changes meaning;
    * ``fold``: a person's full name with middle names or initials left out or
      added (``Donald J. Trump``, ``Hillary Rodham Clinton``) is the
      most mentioned spelling of its group, unless two different middles share
      the first and last name (``George W.`` / ``George H. W. Bush``): then only
      a name without middle that one of them dominates joins it;
    * ``surname``: a one-word person name (``Obama``, ``Hillary``) is the full
      name whose first or last word it is, when that full name has at least
      ``DOMINANCE`` of the mentions of all such full names;
    * ``label``: a one-word ORG/NORP/... name resolves like a surname when the
      person is also mentioned ``PERSON_OVER_OTHER`` times more than it;
    * ``self``: anything else stands for itself.

    Targets are followed through earlier resolutions, so a resolved id is
    always one that resolves to itself.
    """
    previous = previous or {}
    by_id = {t.entity_id: t for t in totals}
    persons = [t for t in by_id.values() if kind_of(t.label) == "person"]
    fresh: dict[str, tuple[str, str]] = {}  # id -> (target id, rule)

    # Full names grouped by first and last word.
    groups: dict[tuple[str, str], list[Totals]] = defaultdict(list)
    for person in persons:
        first, _, last = name_parts(person.canonical)
        if last:
            groups[(first, last)].append(person)
    group_of: dict[str, str] = {}  # full-name id -> group representative id
    targets = {r.resolved_id for r in previous.values()}
    for members in groups.values():
        for subgroup in _fold_groups(members):
            rep = _representative(subgroup, previous, targets)
            for member in subgroup:
                group_of[member.entity_id] = rep
                if member.entity_id != rep:
                    fresh[member.entity_id] = (rep, "fold")
    group_mentions: dict[str, int] = defaultdict(int)
    for person in persons:
        if person.entity_id in group_of:
            group_mentions[group_of[person.entity_id]] += person.mentions

    # One word -> the representatives of the full names it could stand for.
    words: dict[str, set[str]] = defaultdict(set)
    for person in persons:
        rep = group_of.get(person.entity_id)
        if rep is not None:
            first, _, last = name_parts(person.canonical)
            words[first].add(rep)
            words[last].add(rep)

    def dominant(word: str) -> str | None:
        candidates = words.get(word)
        if not candidates:
            return None
        ranked = sorted(candidates, key=lambda rep: (-group_mentions[rep], rep))
        total = sum(group_mentions[rep] for rep in ranked)
        best = ranked[0]
        return best if total and group_mentions[best] >= DOMINANCE * total else None

    person_mentions: dict[str, int] = defaultdict(int)  # normalised name -> its mentions
    for person in persons:
        person_mentions[normalise(person.canonical)] += person.mentions
    for entity in by_id.values():
        kind = kind_of(entity.label)
        word = normalise(entity.canonical)
        if " " in word or entity.entity_id in fresh:
            continue
        target = dominant(word)
        if target is None:
            continue
        if kind == "person":
            fresh[entity.entity_id] = (target, "surname")
        elif kind in _MISLABELLED_KINDS:
            as_person = group_mentions[target] + person_mentions.get(word, 0)
            if as_person >= PERSON_OVER_OTHER * entity.mentions:
                fresh[entity.entity_id] = (target, "label")

    # Person ids the corpus mostly gives another label ("White House" PERSON beside ORG), or
    # that end in such a name ("Indiana GOP"): the other label's id.
    others: dict[str, Totals] = {}
    for entity in by_id.values():
        if kind_of(entity.label) in _MISLABELLED_KINDS | {"place"}:
            word = normalise(entity.canonical)
            if word not in others or entity.mentions > others[word].mentions:
                others[word] = entity
    relabelled: dict[str, Resolution] = {}
    for person in persons:
        words = normalise(person.canonical).split()
        for i in range(len(words)):
            tail = " ".join(words[i:])
            other = others.get(tail)
            if other is None or (i and len(words) - i < 2 and not _ACRONYM.match(tail.upper())):
                continue
            if i == 0 and other.mentions >= PERSON_OVER_OTHER * person.mentions:
                fresh[person.entity_id] = (other.entity_id, "label")
                break
            if i and other.mentions > person.mentions:
                kind = kind_of(other.label)
                target = entity_id(kind, person.canonical)
                fresh[person.entity_id] = (target, "label")
                relabelled[target] = Resolution(target, person.canonical, other.label, "self")
                break

    resolved: dict[str, Resolution] = {}
    for entity in by_id.values():
        earlier = previous.get(entity.entity_id)
        if earlier is not None and earlier.resolved_id != entity.entity_id:
            resolved[entity.entity_id] = earlier._replace(rule="kept")
            continue
        target, rule = fresh.get(entity.entity_id, (entity.entity_id, "self"))
        target = _follow(target, previous)
        if target == entity.entity_id:
            rule = "self"
        head = by_id.get(target)
        if head is None:  # an id no row has, or one resolved earlier that the corpus lost
            head_resolution = relabelled.get(target) or previous[target]
            name, label = head_resolution.resolved_name, head_resolution.resolved_label
        else:
            name, label = head.canonical, head.label
        resolved[entity.entity_id] = Resolution(target, name, label, rule)
    return resolved


def _fold_groups(members: list[Totals]) -> list[list[Totals]]:
    """Full names sharing first and last word, split into the people they are."""
    middles: dict[tuple[str, ...], list[Totals]] = defaultdict(list)
    for member in members:
        middles[name_parts(member.canonical)[1]].append(member)
    plain = middles.pop((), [])
    variants: list[list[Totals]] = []  # middles that agree (J. and Jane) are one variant
    for middle, group in sorted(middles.items(), key=lambda item: -len(item[1])):
        for variant in variants:
            if all(middles_agree(middle, name_parts(m.canonical)[1]) for m in variant):
                variant.extend(group)
                break
        else:
            variants.append(list(group))
    if len(variants) <= 1:
        return [plain + (variants[0] if variants else [])]
    variants.sort(key=lambda group: -sum(m.mentions for m in group))
    total = sum(m.mentions for group in variants for m in group)
    if plain and sum(m.mentions for m in variants[0]) >= DOMINANCE * total:
        variants[0] = variants[0] + plain
        plain = []
    return [group for group in (*variants, plain) if group]


def _representative(
    group: list[Totals], previous: Mapping[str, Resolution], targets: set[str]
) -> str:
    """The id a group resolves to: one it resolved to before, else its most mentioned name."""
    for member in group:
        earlier = previous.get(member.entity_id)
        if earlier is not None and earlier.resolved_id != member.entity_id:
            return earlier.resolved_id
    for member in group:
        if member.entity_id in targets:
            return member.entity_id
    best = max(group, key=lambda m: (m.mentions, -len(m.canonical), m.entity_id))
    return best.entity_id


def _follow(target: str, previous: Mapping[str, Resolution]) -> str:
    """``target``'s final id through earlier resolutions (they never form a cycle)."""
    earlier = previous.get(target)
    if earlier is None or earlier.resolved_id == target:
        return target  # most ids: not resolved away
    seen = set()
    while target in previous and previous[target].resolved_id != target and target not in seen:
        seen.add(target)
        target = previous[target].resolved_id
    return target
