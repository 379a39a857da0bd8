"""Dispatch's use cases: each loads input, applies the domain rules, records history, emits.

Commands on a request share one shape (``_command``): load the actor, replay an idempotency key,
open a unit of work, lock the request, act, record the transition, emit, save the key with the
result, commit. Remote calls (registration) happen before the unit of work opens.

One module per area:

- ``menu``         the service menu (服务菜单) and the community's needs list (服务清单)
- ``policy``       a community's dispatch policy
- ``requests``     submitting requests (居民点单), offering them to members, reading them
- ``matching``     ranking candidate members for a request
- ``lifecycle``    commands on a request: accept, offer, claim (接单), serve, confirm, cancel
- ``escalation``   level queues, escalating (上报), sending down, joint meetings (联席会议)
- ``deadlines``    durable-timer handlers for requests, and ``TIMER_HANDLERS`` for every timer kind
- ``wishes``       micro-wishes (微心愿)
- ``opinions``     opinions (民意)
- ``idempotency``  idempotency keys shared by every command
- ``_common``       private helpers shared by the modules above (views, history, places, deadlines)
"""
