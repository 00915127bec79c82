"""Data collection: tasks, forms, submissions, approval by level, bulk submission, the values."""
