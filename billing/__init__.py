"""Direct Carrier Billing for DakGhor: money, the operator driver protocol, drivers and the ledger."""
