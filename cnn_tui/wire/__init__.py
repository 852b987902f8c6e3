"""The run's data as explicit JSON, no pickle: a typed codec (``codec``, needs torch) and a
line reader with size and depth limits (``lines``, needs nothing)."""
