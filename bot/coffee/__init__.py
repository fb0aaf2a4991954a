"""Virtual coffee and warm introductions: pairing, round scheduling and check-ins, /rapport coffee and intro."""
