"""The inference wing: what the record proves, the classification, the audit and one year's analysis, as data."""
