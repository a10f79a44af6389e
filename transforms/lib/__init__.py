"""The logic behind newsbeam's stages, as plain functions: no Apache Beam here.

Each module pairs with the composite that carries it: ``read.py`` ↔
``lib/formats.py``, ``normalize.py`` ↔ ``lib/normalize.py`` (with ``text``,
``urls``, ``dates``, ``html``), ``dedupe.py`` ↔ ``lib/dedupe.py``,
``enrich.py`` ↔ ``lib/nlp.py`` (with ``entities``, ``quotes``), ``feeds.py`` ↔
``lib/feeds.py`` and ``lib/fetch.py``. ``records`` and ``limits`` serve them
all. ``tests/unit/test_layout.py`` checks that none of them imports Beam.
"""
