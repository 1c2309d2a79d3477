"""The components manifest.yaml names, adapters over core/, grouped by concern: keys and waits
(keys.py, key_pool.py), list pages (list_pages.py), the fetch plan's router and record filter
(router.py), answers a read already holds (shared_answers.py), signals to Airbyte (signals.py),
records that differ from their schema (mismatches.py), saved states (state_migration.py), and what
one read shares (read_context.py)."""
