// Keeps a component library valid while it has no sources of its own.
