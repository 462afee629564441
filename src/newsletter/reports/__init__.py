"""How the issues did: `newsletter report`, and the staff report page of the preview server.

Owns: `figures` (every send from the journal, and one issue's figures per ward edition:
delivered, deferred, bounced hard and soft, complaints, unsubscribes within 7 and 30 days, the
list's growth since the previous issue), `listsize` (the list at a past time, from the consent
events), `page` (the same figures as one self-contained HTML page with inline CSS and SVG
charts: nothing to fetch, no script), `report` (the one call of the CLI and the preview).

It only reads what the office already keeps (the journal, the bounce intake, the consent events
and suppressions): there is no open tracking and no click tracking, so nothing here knows who
read what. May import: `sending` (the route names of `newsletter status`), `audience`, `store`,
the core.
Never writes the database, never prints. Read first: `figures.issue_figures`.
"""
