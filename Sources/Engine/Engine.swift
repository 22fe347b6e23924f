// Module Engine: see docs/ARCHITECTURE.md.
