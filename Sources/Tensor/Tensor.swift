// Module Tensor: see docs/ARCHITECTURE.md.
