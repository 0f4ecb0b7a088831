"""Pure core: models, clocks and the math over them. No Qt, no I/O."""
