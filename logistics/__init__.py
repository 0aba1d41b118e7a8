"""DakGhor's postal domain: offices, parcels, bookings, tracking, tariffs, documents and the web."""
