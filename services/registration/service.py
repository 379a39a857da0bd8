"""Registration service entrypoints: members and work units report in (双报到)."""

import eventlet
from nameko.rpc import RpcProxy

from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.registration import usecases
from services.registration.models import Base

SCORING_TIMEOUT = 2.0  # the card waits this long for points, then shows without them


class RegistrationService(ServiceBase):
    name = "registration"
    db = Database(Base.metadata)
    scoring = RpcProxy("scoring")

    # ---- accounts and the tree
    @rpc
    def authenticate(self, credentials):
        return usecases.authenticate(self.db, credentials)

    @rpc
    def get_place(self, place_id):
        return usecases.get_place(self.db, place_id)

    @rpc
    def list_children(self, place_id):
        return usecases.list_children(self.db, place_id)

    @rpc
    def create_place(self, actor, parent_id, payload):
        return usecases.create_place(self.db, actor, parent_id, payload)

    @rpc
    def rename_place(self, actor, place_id, payload):
        return usecases.rename_place(self.db, actor, place_id, payload)

    # ---- work units (单位报到)
    @rpc
    def create_work_unit(self, actor, payload):
        return usecases.create_work_unit(self.db, actor, payload)

    @rpc
    def list_work_units(self, query=None):
        return usecases.list_work_units(self.db, query)

    @rpc
    def create_unit_account(self, actor, work_unit_id, payload):
        return usecases.create_unit_account(self.db, actor, work_unit_id, payload)

    @rpc
    def report_unit(self, actor, work_unit_id, payload):
        return usecases.report_unit(self.db, actor, work_unit_id, payload)

    @rpc
    def list_co_building_units(self, community_id):
        return usecases.list_co_building_units(self.db, community_id)

    # ---- members (个人报到)
    @rpc
    def register_member(self, actor, payload):
        return usecases.register_member(self.db, actor, payload)

    @rpc
    def sign_up(self, payload):
        return usecases.sign_up(self.db, payload)

    @rpc
    def submit_registration(self, actor, payload):
        return usecases.submit_registration(self.db, actor, payload)

    @rpc
    def accept_member(self, actor, member_id, payload=None):
        return usecases.accept_member(self.db, actor, member_id, payload)

    @rpc
    def reject_member(self, actor, member_id, payload):
        return usecases.reject_member(self.db, actor, member_id, payload)

    @rpc
    def transfer_member(self, actor, member_id, payload):
        return usecases.transfer_member(self.db, actor, member_id, payload)

    @rpc
    def revoke_member(self, actor, member_id, payload):
        return usecases.revoke_member(self.db, actor, member_id, payload)

    @rpc
    def update_profile(self, actor, member_id, payload):
        return usecases.update_profile(self.db, actor, member_id, payload)

    @rpc
    def get_member(self, actor, member_id):
        return usecases.get_member(self.db, actor, member_id)

    @rpc
    def member_history(self, actor, member_id):
        return usecases.member_history(self.db, actor, member_id)

    # ---- for the other services
    @rpc
    def find_candidates(self, query):
        return usecases.find_candidates(self.db, query)

    @rpc
    def member_facts(self, member_ids):
        return usecases.member_facts(self.db, member_ids)

    @rpc
    def recipients(self, query):
        return usecases.recipients(self.db, query)

    # ---- posts, e-branches, teams, pairings
    @rpc
    def list_posts(self, community_id):
        return usecases.list_posts(self.db, community_id)

    @rpc
    def add_post(self, actor, community_id, payload):
        return usecases.add_post(self.db, actor, community_id, payload)

    @rpc
    def create_e_branch(self, actor, community_id, payload):
        return usecases.create_e_branch(self.db, actor, community_id, payload)

    @rpc
    def list_e_branches(self, community_id):
        return usecases.list_e_branches(self.db, community_id)

    @rpc
    def add_e_branch_members(self, actor, e_branch_id, payload):
        return usecases.add_e_branch_members(self.db, actor, e_branch_id, payload)

    @rpc
    def create_team(self, actor, community_id, payload):
        return usecases.create_team(self.db, actor, community_id, payload)

    @rpc
    def list_teams(self, community_id):
        return usecases.list_teams(self.db, community_id)

    @rpc
    def add_team_members(self, actor, team_id, payload):
        return usecases.add_team_members(self.db, actor, team_id, payload)

    @rpc
    def create_pairing(self, actor, payload):
        return usecases.create_pairing(self.db, actor, payload)

    @rpc
    def list_pairings(self, actor, community_id):
        return usecases.list_pairings(self.db, actor, community_id)

    # ---- the talent pool and rosters
    @rpc
    def search_talent(self, actor, query):
        return usecases.search_talent(self.db, actor, query)

    @rpc
    def export_talent(self, actor, query):
        return usecases.export_talent(self.db, actor, query)

    @rpc
    def import_roster(self, actor, payload):
        # a long import lets other greenthreads (and the AMQP heartbeat) run between batches
        return usecases.import_roster(self.db, actor, payload, progress=lambda n: eventlet.sleep(0))

    @rpc
    def roster_errors(self, actor, import_id):
        return usecases.roster_errors(self.db, actor, import_id)

    # ---- the e-volunteer card
    @rpc
    def add_training(self, actor, member_id, payload):
        return usecases.add_training(self.db, actor, member_id, payload)

    @rpc
    def get_card(self, actor, member_id):
        return usecases.get_card(self.db, self._member_summary, actor, member_id)

    def _member_summary(self, member_id):
        with eventlet.Timeout(SCORING_TIMEOUT, False):  # False: give up quietly, None means no points
            return self.scoring.member_summary(member_id)
        return None

    @consumes("dispatch", "request.confirmed")
    def on_request_confirmed(self, uow, event):
        usecases.on_request_confirmed(uow, event)

    @consumes("activities", "activity.attended")
    def on_activity_attended(self, uow, event):
        usecases.on_activity_attended(uow, event)
