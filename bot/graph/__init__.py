"""The conversation graph: which messages are questions, what replies to what, who is in touch with whom."""
