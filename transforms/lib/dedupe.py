"""Which copy of an article to keep: the rule behind ``DeduplicateArticles``."""


def choose_article(articles) -> tuple[dict, list[dict]]:
    """The copy to keep among articles sharing an id, and the others.

    Deterministic whatever order the copies arrive in: prefer the copy with
    a publication date, then with a title, then the longest text, then the
    smallest origin.
    """
    ranked = sorted(
        articles,
        key=lambda a: (a["published_at"] is None, a["title"] is None, -len(a["text"]), a["origin"]),
    )
    return ranked[0], ranked[1:]
