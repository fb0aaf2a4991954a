"""Taking messages in: live ones in order, kept through database outages (intake), and linking them into the
graph and storing it, for live messages and history imports alike (ingest)."""
