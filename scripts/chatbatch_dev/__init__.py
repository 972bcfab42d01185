"""Development tools of chatbot-analytics, kept apart from the runtime package
``chatbatch``: the synthetic data generator (``chatbatch generate``), the benchmark
(``chatbatch bench``) and the Spark-vs-DuckDB comparison (``make test-spark``).

The nightly path never imports this package; the CLI loads it only for ``generate``
and ``bench``."""
