"""What Stadtstimme keeps and how it is found: catalog, passages, search.

No HTTP, no downloading."""
