"""Monitor: the typed run record of a batch, the run history, alerts, and the
operator's views (``chatbatch status``, ``chatbatch summary``)."""
