"""Transform: the dbt project does the transforming (``models/``); this package holds
the Python dbt calls while it runs (the ``redact_pii`` UDF, registered by a dbt-duckdb
plugin and, on Spark, as a Spark UDF)."""
