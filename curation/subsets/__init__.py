"""Subsets: a SubsetSpec resolved to row ids (pins, budgets, quotas), and saved, versioned subsets."""
