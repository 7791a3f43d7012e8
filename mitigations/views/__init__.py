"""Server-rendered pages of the mitigations app: plans (``plans``) and the reviewer's pages
(``review``: inbox, acceptances, audit, webhook); ``mitigations.urls`` routes to the modules."""
