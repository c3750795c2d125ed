"""tokentrail: every LLM call in the process, typed, priced and attributed to the run that was active."""
