// Module Evaluation: see docs/ARCHITECTURE.md.
