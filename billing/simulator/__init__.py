"""The operator simulator: a real HTTP server speaking the four operators' DCB dialects, with
subscribers, OTPs, consent pages, callbacks, settlement files and fault injection."""
