"""Teletalk: OAuth2 client credentials (form body), +8801… numbers, integer poisha, consent on an
operator page, TT-xxx reason codes."""
