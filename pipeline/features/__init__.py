"""Feature definitions and engineering: raw customer rows to the behavioural features that are clustered."""
