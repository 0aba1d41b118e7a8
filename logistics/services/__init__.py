"""Use cases as functions taking a Session: they flush, the caller commits."""
