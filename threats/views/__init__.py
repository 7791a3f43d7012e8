"""Server-rendered pages of the threats app, one module per area (library, findings, risk, advice,
diagrams); ``threats.urls`` routes to the modules, so nothing is re-exported here."""
