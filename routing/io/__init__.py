"""Readers for the standard benchmark formats and the VRPLIB .sol writer."""
