"""Registration service entrypoints: members and work units report in (双报到)."""

import eventlet
from nameko.rpc import RpcProxy

from common import assertions
from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.registration.models import Base
from services.registration.usecases import (
    accounts,
    card,
    groups,
    lookups,
    members,
    posts,
    roster_import,
    talent,
    tree,
    work_units,
)

SCORING_TIMEOUT = 2.0  # the card waits this long for points, then shows without them


class RegistrationService(ServiceBase):
    name = "registration"
    db = Database(Base.metadata)
    scoring = RpcProxy("scoring")

    # ---- accounts and the tree
    @rpc(public=True)
    def authenticate(self, credentials):
        return accounts.authenticate(self.db, credentials)

    @rpc(public=True)
    def get_place(self, place_id):
        return tree.get_place(self.db, place_id)

    @rpc(public=True)
    def communities_within(self, place_id):
        return tree.communities_within(self.db, place_id)

    @rpc(public=True)
    def list_children(self, place_id):
        return tree.list_children(self.db, place_id)

    @rpc
    def create_place(self, actor, parent_id, payload):
        return tree.create_place(self.db, actor, parent_id, payload)

    @rpc
    def rename_place(self, actor, place_id, payload):
        return tree.rename_place(self.db, actor, place_id, payload)

    # ---- work units (单位报到)
    @rpc
    def create_work_unit(self, actor, payload):
        return work_units.create_work_unit(self.db, actor, payload)

    @rpc
    def list_work_units(self, actor, query=None):
        return work_units.list_work_units(self.db, actor, query)

    @rpc
    def create_unit_account(self, actor, work_unit_id, payload):
        return work_units.create_unit_account(self.db, actor, work_unit_id, payload)

    @rpc
    def report_unit(self, actor, work_unit_id, payload):
        return work_units.report_unit(self.db, actor, work_unit_id, payload)

    @rpc
    def list_unit_reports(self, actor, work_unit_id):
        return work_units.list_unit_reports(self.db, actor, work_unit_id)

    @rpc(public=True)
    def list_co_building_units(self, community_id):
        return work_units.list_co_building_units(self.db, community_id)

    # ---- members (个人报到)
    @rpc
    def register_member(self, actor, payload):
        return members.register_member(self.db, actor, payload)

    @rpc(public=True)
    def sign_up(self, payload):
        return members.sign_up(self.db, payload)

    @rpc
    def list_signup_reviews(self, actor, community_id):
        return members.list_signup_reviews(self.db, actor, community_id)

    @rpc
    def submit_registration(self, actor, payload):
        return members.submit_registration(self.db, actor, payload)

    @rpc
    def accept_member(self, actor, member_id, payload=None):
        return members.accept_member(self.db, actor, member_id, payload)

    @rpc
    def reject_member(self, actor, member_id, payload):
        return members.reject_member(self.db, actor, member_id, payload)

    @rpc
    def transfer_member(self, actor, member_id, payload):
        return members.transfer_member(self.db, actor, member_id, payload)

    @rpc
    def revoke_member(self, actor, member_id, payload):
        return members.revoke_member(self.db, actor, member_id, payload)

    @rpc
    def update_profile(self, actor, member_id, payload):
        return members.update_profile(self.db, actor, member_id, payload)

    @rpc
    def get_member(self, actor, member_id):
        return members.get_member(self.db, actor, member_id)

    @rpc
    def member_history(self, actor, member_id):
        return members.member_history(self.db, actor, member_id)

    # ---- for the other services
    @rpc(internal=True)
    def find_candidates(self, actor, query):
        return lookups.find_candidates(self.db, query)

    @rpc(internal=True)
    def member_facts(self, actor, member_ids):
        return lookups.member_facts(self.db, member_ids)

    @rpc(public=True)
    def names(self, query):
        return lookups.names(self.db, query)

    @rpc(internal=True)
    def recipients(self, actor, query):
        return lookups.recipients(self.db, query)

    @rpc(internal=True)
    def existing_work_units(self, actor, work_unit_ids):
        return lookups.existing_work_units(self.db, work_unit_ids)

    @rpc(internal=True)
    def session_state(self, actor, user_ids):
        """For the gateway: each account's token version, so revoked tokens stop within seconds."""
        return accounts.session_state(self.db, user_ids)

    # ---- posts, e-branches, teams, pairings
    @rpc(public=True)
    def list_posts(self, community_id):
        return posts.list_posts(self.db, community_id)

    @rpc
    def add_post(self, actor, community_id, payload):
        return posts.add_post(self.db, actor, community_id, payload)

    @rpc
    def create_e_branch(self, actor, community_id, payload):
        return groups.create_e_branch(self.db, actor, community_id, payload)

    @rpc(public=True)
    def list_e_branches(self, community_id):
        return groups.list_e_branches(self.db, community_id)

    @rpc
    def add_e_branch_members(self, actor, e_branch_id, payload):
        return groups.add_e_branch_members(self.db, actor, e_branch_id, payload)

    @rpc
    def create_team(self, actor, community_id, payload):
        return groups.create_team(self.db, actor, community_id, payload)

    @rpc(public=True)
    def list_teams(self, community_id):
        return groups.list_teams(self.db, community_id)

    @rpc
    def add_team_members(self, actor, team_id, payload):
        return groups.add_team_members(self.db, actor, team_id, payload)

    @rpc
    def create_pairing(self, actor, payload):
        return groups.create_pairing(self.db, actor, payload)

    @rpc
    def list_pairings(self, actor, community_id):
        return groups.list_pairings(self.db, actor, community_id)

    # ---- the talent pool and rosters
    @rpc
    def search_talent(self, actor, query):
        return talent.search_talent(self.db, actor, query)

    @rpc
    def export_talent(self, actor, query):
        return talent.export_talent(self.db, actor, query)

    @rpc
    def import_roster(self, actor, payload):
        # a long import lets other greenthreads (and the AMQP heartbeat) run between batches
        return roster_import.import_roster(self.db, actor, payload, progress=lambda n: eventlet.sleep(0))

    @rpc
    def roster_errors(self, actor, import_id):
        return roster_import.roster_errors(self.db, actor, import_id)

    # ---- the e-volunteer card
    @rpc
    def add_training(self, actor, member_id, payload):
        return card.add_training(self.db, actor, member_id, payload)

    @rpc
    def get_card(self, actor, member_id):
        return card.get_card(self.db, self._member_summary, actor, member_id)

    def _member_summary(self, member_id):
        with eventlet.Timeout(SCORING_TIMEOUT, False):  # False: give up quietly, None means no points
            return self.scoring.member_summary(assertions.system(self.name), member_id)
        return None

    @consumes("dispatch", "request.confirmed")
    def on_request_confirmed(self, uow, event):
        card.on_request_confirmed(uow, event)

    @consumes("records", "entry.confirmed")
    def on_entry_confirmed(self, uow, event):
        card.on_entry_confirmed(uow, event)

    @consumes("activities", "activity.attended")
    def on_activity_attended(self, uow, event):
        card.on_activity_attended(uow, event)
