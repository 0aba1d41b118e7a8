"""Grameenphone: GSMA OneAPI Payment dialect, OAuth2 client credentials, tel:+880 numbers,
amounts in decimal taka, consent by OTP over SMS, OneAPI SVC/POL error ids."""
