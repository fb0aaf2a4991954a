"""Privacy: see / export / erase, pausing tracking, retention and the join notice."""
