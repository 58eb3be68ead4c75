"""The data wing: the bundled data package, the units, a user's tables, names in dictionary order."""
