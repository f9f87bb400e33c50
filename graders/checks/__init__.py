"""Reusable checks. Each raises CheckFailed with what was expected, what the cluster showed and a hint.

Checks talk to a LabRun's sandbox only (graders.backends.base); they never import a backend.
"""
