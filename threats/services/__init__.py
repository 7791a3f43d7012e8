"""Write services of the threat app; every write to its tables goes through one of these."""
