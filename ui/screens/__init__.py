"""One module per panel screen; `base` holds the frame they share."""
