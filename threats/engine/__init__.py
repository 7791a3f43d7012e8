"""Pure engines of the threat library: no Django, plain data in and out (DESIGN.md §2).

``snapshot`` holds the input types, ``facts`` derives rule attributes from a snapshot, ``rules``
compiles and evaluates conditions, and ``library`` loads the YAML library and matches it.
"""
