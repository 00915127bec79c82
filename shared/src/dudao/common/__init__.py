"""The kit's own schema ``common``: divisions and API keys, which every service reads."""
