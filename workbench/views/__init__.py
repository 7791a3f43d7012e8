"""Server-rendered pages of the modelling app."""
