"""The Textual monitor: a view of the engine's event stream that steers it by commands."""
