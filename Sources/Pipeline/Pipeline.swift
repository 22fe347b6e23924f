// Module Pipeline: see docs/ARCHITECTURE.md.
