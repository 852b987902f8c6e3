"""The dashboard's widgets, one per file; each draws from the RunView when told to sync."""
