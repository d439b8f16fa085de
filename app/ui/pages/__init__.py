"""Page bodies: one module per kind of page; the files in pages/ call them."""
