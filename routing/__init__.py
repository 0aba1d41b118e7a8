"""Van routing for DakGhor: plain problem data in, a checked plan out (OR-Tools underneath)."""
