"""Topics for unlabelled user messages (issue 16): model.py (fit, assignment rule, stable
ids), store.py (the warehouse tables and a night's update), tables.py (their DDL)."""
