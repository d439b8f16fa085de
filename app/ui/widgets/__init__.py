"""Widgets the page bodies are made of: editor, results, transform stack, share button."""
