"""The intent classifier: trained on the latest ``ml_intent_examples`` version, evaluated on
its test split, shipped only when it is not worse than the current model (``train.py``).

``exports/models/intent/v=N/`` holds each trained candidate (model file, ``metrics.json``,
``MODEL_CARD.md``); ``current`` is a symlink to the shipped one, replaced atomically.
``chatbatch train intent`` and the nightly step (``workload.py``) train; ``chatbatch
classify`` answers from ``current`` (``classify.py``); the evaluations of every candidate
reach the published database as ``ml_models.ml_model_evaluations`` (``evaluations.py``).
"""
