// Module Imaging: see docs/ARCHITECTURE.md.
