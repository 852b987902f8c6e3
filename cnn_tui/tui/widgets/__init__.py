"""The screens' widgets, one per file; most are view widgets (see ``base.py``): each draws
one part of the RunView, at its own rate."""
