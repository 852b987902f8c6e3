"""Modal screens: help and the hyperparameter dialog."""
