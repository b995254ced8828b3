"""Which providers exist and how healthy each is: registry sources, pool, breakers."""
