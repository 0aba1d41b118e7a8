"""Robi: REST dialect with an API key, 8801… numbers, integer poisha, consent on an operator
page, Rxxx error codes."""
