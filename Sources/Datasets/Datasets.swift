// Module Datasets: see docs/ARCHITECTURE.md.
