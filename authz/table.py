"""THE authorisation table: operation → role → the scope within which that role may do it.

Operation names are ``<OpenAPI tag>.<gateway handler>`` (``registration.card``); the gateway
derives each route's roles (and the OpenAPI ``x-roles``) from here, and the services check the
same names against the record's facts (``authz.check``). A role missing from a row may not do it
at all. Scopes (``common.policy``): own, assigned, grid, community, street, district, work_unit,
co_building, any. Finer workflow rules (the level a request is escalated to, an activity's
audience) stay in each service's ``domain.py`` *after* this check.

``applicant``: a member account whose registration is pending, rejected, revoked or transferred
away — it sees its own status and nothing else. ``system`` (a service acting for itself, with a
signed assertion) is not a row: it passes every check.

Adding an operation: add its row here (tests/unit/test_policy.py fails for a route without one).
"""

from common.policy import ANY, ASSIGNED, CO_BUILDING, COMMUNITY, DISTRICT, GRID, OWN, PUBLIC, STREET, WORK_UNIT

R, M, G, C, S, D, U, A = ("resident", "member", "grid_leader", "community_staff", "street_staff",
                          "district_staff", "unit_org", "applicant")

EVERYONE = {R: ANY, M: ANY, G: ANY, C: ANY, S: ANY, D: ANY, U: ANY}  # signed in and active
OFFICES = {C: COMMUNITY, S: STREET, D: DISTRICT}
STAFF = {G: COMMUNITY, **OFFICES}  # grid leaders: their community; domain rules narrow to the grid
SELF = {R: OWN, M: OWN, G: OWN, C: OWN, S: OWN, D: OWN, U: OWN}
PRIVATE = {M: OWN, G: (OWN, COMMUNITY), **OFFICES, U: WORK_UNIT}  # a member's record: them, staff, employer
LEADERS = {M: OWN, G: (OWN, GRID), **OFFICES, U: (OWN, WORK_UNIT)}  # an activity's publisher/leader or staff

TABLE = {
    # ---- sign-in and system pages
    "auth.login": PUBLIC,
    "auth.me": {**SELF, A: OWN},
    "auth.open_session": PUBLIC,  # the browser's sign-in: the token in an HttpOnly cookie
    "auth.close_session": PUBLIC,
    "system.health": PUBLIC,
    "system.openapi_document": PUBLIC,
    "system.console": PUBLIC,
    "system.h5": PUBLIC,
    "system.docs": PUBLIC,
    "system.docs_asset": PUBLIC,
    "system.asyncapi_page": PUBLIC,
    "system.asyncapi_document": PUBLIC,
    "system.favicon": PUBLIC,
    "system.metrics": PUBLIC,  # keep /metrics off the public ingress (docs/operations.md)

    # ---- personal data (not an HTTP operation: who sees a phone in full)
    "personal.full_phone": {R: OWN, M: (OWN, ASSIGNED), G: (OWN, ASSIGNED), C: COMMUNITY, A: OWN},
    "personal.unit_contact_phone": {U: WORK_UNIT, **OFFICES},
    # ---- RPC-only operations (no HTTP route): who may do them besides the system itself
    "internal.create_api_key": {D: ANY},

    # ---- registration: the tree, work units, members
    "registration.get_place": EVERYONE,
    "registration.list_children": EVERYONE,
    "registration.create_place": OFFICES,
    "registration.rename_place": OFFICES,
    "registration.create_work_unit": OFFICES,
    "registration.list_work_units": EVERYONE,
    # a unit's login only by staff over a community it has a co-building report with
    "registration.create_unit_account": OFFICES,
    "registration.report_unit": {U: WORK_UNIT, **OFFICES},
    "registration.unit_reports": {U: WORK_UNIT},  # staff read agreements per community (co_building_units)
    "registration.co_building_units": EVERYONE,
    "registration.register_member": {C: COMMUNITY},
    "registration.sign_up": PUBLIC,
    "registration.signup_reviews": {C: COMMUNITY},
    "registration.submit_registration": {M: OWN, G: OWN, A: OWN},
    # the profile (phone masked by personal.full_phone): neighbours in the community may look up who serves them
    "registration.get_member": {R: COMMUNITY, M: (OWN, COMMUNITY), G: (OWN, COMMUNITY), **OFFICES, U: WORK_UNIT,
                                A: OWN},
    "registration.update_profile": {M: OWN, G: OWN, C: COMMUNITY},
    "registration.member_history": {**PRIVATE, A: OWN},
    "registration.accept_member": {C: COMMUNITY},
    "registration.reject_member": {C: COMMUNITY},
    # a member asks to move; the receiving community's staff accept it (accept_member)
    "registration.transfer_member": {M: OWN, G: OWN, C: COMMUNITY},
    "registration.revoke_member": {C: COMMUNITY},
    "registration.card": PRIVATE,
    "registration.add_training": {C: COMMUNITY},
    "registration.list_posts": EVERYONE,
    "registration.add_post": {C: COMMUNITY},
    "registration.list_e_branches": EVERYONE,
    "registration.create_e_branch": {C: COMMUNITY},
    "registration.add_e_branch_members": {C: COMMUNITY},
    "registration.list_teams": EVERYONE,
    "registration.create_team": {C: COMMUNITY},
    "registration.add_team_members": {C: COMMUNITY},
    "registration.create_pairing": {C: COMMUNITY},
    "registration.list_pairings": STAFF,
    "registration.search_talent": {**STAFF, U: WORK_UNIT},
    "registration.export_talent": {**STAFF, U: WORK_UNIT},
    # every member a roster row creates or changes must lie in the importer's scope
    "registration.import_roster": {**OFFICES, U: WORK_UNIT},
    "registration.roster_errors": {C: OWN, S: OWN, D: OWN, U: OWN},

    # ---- dispatch: menus, requests, wishes, opinions
    "dispatch.menu": EVERYONE,
    "dispatch.create_menu_item": OFFICES,
    "dispatch.update_menu_item": OFFICES,
    "dispatch.get_policy": STAFF,
    "dispatch.set_policy": OFFICES,
    "dispatch.list_needs": EVERYONE,
    "dispatch.post_need": OFFICES,
    "dispatch.submit_request": {R: COMMUNITY, C: COMMUNITY},
    "dispatch.my_requests": {R: OWN, M: ASSIGNED, G: ASSIGNED, C: COMMUNITY, S: STREET, D: DISTRICT,
                             U: WORK_UNIT},
    "dispatch.open_requests": {M: COMMUNITY, G: COMMUNITY},
    "dispatch.search_requests": STAFF,
    "dispatch.escalation_queue": STAFF,
    "dispatch.get_request": {R: OWN, M: ASSIGNED, G: (ASSIGNED, COMMUNITY), **OFFICES, U: WORK_UNIT},
    "dispatch.timeline": {R: OWN, M: ASSIGNED, G: (ASSIGNED, COMMUNITY), **OFFICES, U: WORK_UNIT},
    "dispatch.candidates": STAFF,
    "dispatch.accept": STAFF,
    "dispatch.reject": STAFF,
    "dispatch.merge": STAFF,
    # offered/reassigned members must be accepted members of the request's community (dispatch checks)
    "dispatch.offer": STAFF,
    "dispatch.reassign": STAFF,
    "dispatch.claim": {M: (ASSIGNED, COMMUNITY), G: (ASSIGNED, COMMUNITY)},
    "dispatch.decline": {M: ASSIGNED, G: ASSIGNED},
    "dispatch.hand_back": {M: ASSIGNED, G: ASSIGNED},
    "dispatch.start": {M: ASSIGNED, G: ASSIGNED, U: WORK_UNIT, S: STREET, D: DISTRICT},
    "dispatch.complete": {M: ASSIGNED, G: ASSIGNED, U: WORK_UNIT, S: STREET, D: DISTRICT},
    "dispatch.confirm": {R: OWN, **STAFF},
    "dispatch.cancel": {R: OWN, **STAFF},
    "dispatch.escalate": STAFF,
    "dispatch.send_down": STAFF,
    "dispatch.joint_meeting": {S: STREET, D: DISTRICT},
    "dispatch.post_wish": {R: COMMUNITY, G: COMMUNITY, C: COMMUNITY},
    "dispatch.list_wishes": {R: OWN, M: COMMUNITY, G: COMMUNITY, **OFFICES},
    "dispatch.get_wish": {R: OWN, M: COMMUNITY, G: COMMUNITY, **OFFICES},
    "dispatch.claim_wish": {M: COMMUNITY, G: COMMUNITY},
    "dispatch.fulfil_wish": {M: ASSIGNED, G: ASSIGNED},
    "dispatch.confirm_wish": {R: OWN, G: COMMUNITY, C: COMMUNITY},
    "dispatch.submit_opinion": {R: COMMUNITY, M: COMMUNITY},
    "dispatch.list_opinions": {R: OWN, M: OWN, **OFFICES},  # grid leaders: no opinions desk
    "dispatch.opinion_stats": OFFICES,
    "dispatch.get_opinion": {R: OWN, M: OWN, **OFFICES},
    "dispatch.assign_opinion": OFFICES,
    "dispatch.resolve_opinion": OFFICES,

    # ---- activities
    # a unit publishes only where it has a co-building report; e-branch secretaries: domain rule
    "activities.activity_publish": {M: COMMUNITY, G: COMMUNITY, **OFFICES, U: CO_BUILDING},
    "activities.list_activities": EVERYONE,
    # residents join their community's open volunteer activities too
    "activities.my_activity_signups": {R: OWN, M: OWN, G: OWN},
    "activities.get_activity": EVERYONE,
    "activities.edit_activity": LEADERS,
    "activities.cancel_activity": LEADERS,
    "activities.activity_sign_up": {R: COMMUNITY, M: (COMMUNITY, WORK_UNIT), G: (COMMUNITY, WORK_UNIT)},
    "activities.activity_withdraw": {R: OWN, M: OWN, G: OWN},
    "activities.activity_signups": LEADERS,
    "activities.activity_code": LEADERS,
    "activities.activity_check_in": {R: OWN, M: OWN, G: OWN},
    "activities.activity_check_out": {R: OWN, M: OWN, G: OWN},
    "activities.mark_attendance": LEADERS,
    "activities.close_activity": LEADERS,
    "activities.activity_report": LEADERS,
    "activities.community_activity_stats": OFFICES,

    # ---- scoring
    "scoring.member_points": PRIVATE,
    "scoring.adjust_points": {C: COMMUNITY},
    "scoring.assess": {C: COMMUNITY, U: WORK_UNIT},
    "scoring.scoring_dashboard": STAFF,
    "scoring.scoring_rules": STAFF,
    "scoring.set_community_rules": {C: COMMUNITY},
    "scoring.set_district_rules": {D: DISTRICT},
    "scoring.scoring_conflicts": STAFF,
    "scoring.resolve_conflict": {C: COMMUNITY},
    "scoring.scoring_rejections": STAFF,
    "scoring.reapply_rejection": {C: COMMUNITY},
    "scoring.quarters": EVERYONE,
    "scoring.close_quarter": {D: DISTRICT},
    "scoring.rankings": STAFF,
    "scoring.member_rankings": {**STAFF, U: WORK_UNIT},
    "scoring.public_notice": {R: COMMUNITY, M: COMMUNITY, G: COMMUNITY, **OFFICES, U: CO_BUILDING},
    "scoring.recognition": STAFF,
    "scoring.unit_report": {**OFFICES, U: WORK_UNIT},
    "scoring.export": STAFF,
    "scoring.chart": STAFF,

    # ---- notifications
    "notifications.inbox": {**SELF, A: OWN},
    "notifications.mark_read": {**SELF, A: OWN},
    "notifications.mark_all_read": {**SELF, A: OWN},
    "notifications.preferences": SELF,
    "notifications.set_preferences": SELF,
    "notifications.templates": STAFF,
    "notifications.preview_template": STAFF,
    "notifications.channels": OFFICES,
    "notifications.set_channel": OFFICES,
    "notifications.broadcast": OFFICES,
    "notifications.notice": OFFICES,
    "notifications.deliveries": OFFICES,
    "notifications.delivery": OFFICES,
    "notifications.retry_delivery": OFFICES,

    # ---- Open311 (API keys of other systems, checked by bridge)
    "open311.open311_services": PUBLIC,
    "open311.open311_service_definition": PUBLIC,
    "open311.open311_post_request": PUBLIC,
    "open311.open311_requests": PUBLIC,
    "open311.open311_request": PUBLIC,
    "open311.open311_token": PUBLIC,

    # ---- the volunteer record (#16): staff of the recording community; the member's e-branch
    # secretary is "assigned" to confirm their hours (records.domain.organisers)
    "records.records_queue": {M: ASSIGNED, G: ASSIGNED, **OFFICES},
    "records.records_entry": {M: (OWN, ASSIGNED), G: (OWN, ASSIGNED), **OFFICES},
    "records.records_confirm": {M: ASSIGNED, G: ASSIGNED, **OFFICES},
    "records.member_record": {M: OWN, G: OWN, **OFFICES},
    "records.records_star_levels": EVERYONE,
    "records.records_add_training": OFFICES,
    "records.records_add_award": OFFICES,
    "records.records_complaints": OFFICES,
    "records.records_add_complaint": OFFICES,
    "records.records_handle_complaint": OFFICES,
    "records.records_decide_transfer": {M: OWN, G: OWN},
    "records.records_issue_certificate": OFFICES,
    "records.records_certificates": {M: OWN, G: OWN, **OFFICES},
    "records.records_certificate_pdf": {M: OWN, G: OWN, **OFFICES},
    "records.records_revoke_certificate": OFFICES,
    "records.verify_certificate_json": PUBLIC,
    "records.verify_certificate_page": PUBLIC,
    "records.records_export": OFFICES,
}
