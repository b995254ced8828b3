"""The SQL database the router keeps its state in, and its migrations."""
