"""Publishing to X: claims, outcomes, stray copies, takedowns, tokens, pauses and blackouts."""
