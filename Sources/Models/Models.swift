// Module Models: see docs/ARCHITECTURE.md.
