"""Experiments: settings, plans of training jobs, the engine that runs them, result tables."""
