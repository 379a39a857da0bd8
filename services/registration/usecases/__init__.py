"""Registration's use cases: load and check input, apply the domain rules, commit, emit events.

One module per area; import from the module itself:

- ``tree``: the organisation tree (places and their children)
- ``accounts``: password hashing and signing in
- ``work_units``: work units, unit accounts and unit reporting (单位报到)
- ``members``: the member registration lifecycle and member views
- ``posts``: each community's service posts
- ``groups``: e-branches, volunteer teams and pairings
- ``talent``: the talent pool (search and export)
- ``lookups``: what other services ask (candidates, member facts, recipients)
- ``card``: the e-volunteer card and service records
- ``roster_import``: bulk roster import
- ``_common``: private helpers shared by the modules above
"""
