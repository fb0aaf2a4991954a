"""The conversation graph: which messages are questions, what replies to what, who is in touch with whom, and
the ladder of rapport read from it (live intake, history imports, /rapport me and /rapport with)."""
