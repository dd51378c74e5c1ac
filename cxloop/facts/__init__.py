"""The columnar fact store (L3): Parquet files by month that analytics reads (docs/facts.md).

``schema`` defines the tables, ``store`` the files, ``sync`` writes them from the database,
``tasks`` keeps them current after writes; ``cxloop facts rebuild|status`` is the command.
"""
