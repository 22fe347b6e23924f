// Module Results: see docs/ARCHITECTURE.md.
