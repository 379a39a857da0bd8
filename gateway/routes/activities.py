"""Volunteer activities and themed Party days (志愿活动, 主题党日)."""

from gateway.http import route
from services.activities import schemas

TAG = "activities"


class ActivitiesRoutes:
    @route("POST", "/api/activities", tag=TAG, summary="发布志愿活动或主题党日",
           description="社区工作人员、网格长、e支部书记、共驻共建单位党组织发布；可带 Idempotency-Key 防重复提交。",
           body=schemas.PublishActivity, response=schemas.Activity, status=201)
    def activity_publish(self, call):
        return self.activities.publish(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/activities", tag=TAG, summary="活动列表（党员：面向我的；工作人员：管辖范围内）",
           query=schemas.ListQuery, response=schemas.Activity(many=True))
    def list_activities(self, call):
        return self.activities.list_activities(call.actor, _wire(call.query))

    @route("GET", "/api/activities/mine", tag=TAG, summary="我报名的活动", response=schemas.MySignup(many=True))
    def my_activity_signups(self, call):
        return self.activities.my_signups(call.actor)

    @route("GET", "/api/activities/{activity_id}", tag=TAG, summary="活动详情", response=schemas.Activity)
    def get_activity(self, call, activity_id):
        return self.activities.get_activity(call.actor, activity_id)

    @route("PATCH", "/api/activities/{activity_id}", tag=TAG, summary="修改活动（名额不能少于已报名人数）",
           body=schemas.EditActivity, response=schemas.Activity)
    def edit_activity(self, call, activity_id):
        return self.activities.edit(call.actor, activity_id, call.body)

    @route("POST", "/api/activities/{activity_id}/cancel", tag=TAG, summary="取消活动并通知报名者",
           body=schemas.CancelActivity, response=schemas.Activity)
    def cancel_activity(self, call, activity_id):
        return self.activities.cancel(call.actor, activity_id, call.body)

    @route("POST", "/api/activities/{activity_id}/signup", tag=TAG, summary="报名（满员则进入候补）",
           response=schemas.Signup, status=201)
    def activity_sign_up(self, call, activity_id):
        return self.activities.sign_up(call.actor, activity_id)

    @route("DELETE", "/api/activities/{activity_id}/signup", tag=TAG, summary="取消报名（空出的名额自动递补）",
           response=schemas.Signup)
    def activity_withdraw(self, call, activity_id):
        return self.activities.withdraw(call.actor, activity_id)

    @route("GET", "/api/activities/{activity_id}/signups", tag=TAG, summary="报名名单（按报名先后，含候补）",
           response=schemas.Signup(many=True))
    def activity_signups(self, call, activity_id):
        return self.activities.signups(call.actor, activity_id)

    @route("GET", "/api/activities/{activity_id}/code", tag=TAG, summary="现场签到码（每分钟更换，可生成二维码）",
           response=schemas.CodeView)
    def activity_code(self, call, activity_id):
        return self.activities.current_code(call.actor, activity_id)

    @route("POST", "/api/activities/{activity_id}/check-in", tag=TAG, summary="现场签到（输入或扫描签到码）",
           body=schemas.Code, response=schemas.Signup)
    def activity_check_in(self, call, activity_id):
        return self.activities.check_in(call.actor, activity_id, call.body)

    @route("POST", "/api/activities/{activity_id}/check-out", tag=TAG, summary="现场签退（计算服务时长）",
           body=schemas.Code, response=schemas.Signup)
    def activity_check_out(self, call, activity_id):
        return self.activities.check_out(call.actor, activity_id, call.body)

    @route("POST", "/api/activities/{activity_id}/attendance", tag=TAG,
           summary="带队负责人记考勤：出席、迟到、请假、缺席（更正须写原因）",
           body=schemas.Mark, response=schemas.Signup)
    def mark_attendance(self, call, activity_id):
        return self.activities.mark(call.actor, activity_id, call.body)

    @route("POST", "/api/activities/{activity_id}/close", tag=TAG,
           summary="关闭考勤并结算时长（活动结束2小时后自动关闭）", response=schemas.Report)
    def close_activity(self, call, activity_id):
        return self.activities.close_attendance(call.actor, activity_id)

    @route("GET", "/api/activities/{activity_id}/report", tag=TAG, summary="活动统计：报名、出席、时长与考勤记录",
           response=schemas.Report)
    def activity_report(self, call, activity_id):
        return self.activities.report(call.actor, activity_id)

    @route("GET", "/api/communities/{community_id}/activity-stats", tag=TAG,
           summary="社区某一时期的活动统计：举办场次、参与党员、总时长", query=schemas.StatsQuery,
           response=schemas.CommunityStats)
    def community_activity_stats(self, call, community_id):
        return self.activities.community_stats(call.actor, community_id, _wire(call.query))


def _wire(query: dict) -> dict:
    """The loaded query back to JSON primitives; the service loads it again with the same schema."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in query.items() if v is not None}
