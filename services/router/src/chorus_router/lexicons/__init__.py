"""Pronunciation lexicons: each user's, stored in the router's database."""
