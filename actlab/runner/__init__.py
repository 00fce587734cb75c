"""Ray Tune runner: sweeps, trials, resources, callbacks."""
