"""Write services of the modelling app; every write to the domain goes through one of these."""
