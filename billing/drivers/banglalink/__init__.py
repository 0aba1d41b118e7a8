"""Banglalink: HMAC-signed requests, 01… national numbers, decimal taka, OTP by SMS,
numeric result codes."""
