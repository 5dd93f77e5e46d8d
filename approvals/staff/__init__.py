"""Personal-use guidance for staff: the guidance, its consultation and the self-check."""
