"""Readers, header aliases, number parsing, validation and writers."""
