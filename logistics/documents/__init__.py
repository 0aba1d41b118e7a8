"""Printable documents (labels, manifests): plain dataclasses in, PDF bytes out."""
