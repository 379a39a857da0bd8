"""Volunteer activities and themed Party days (志愿活动, 主题党日)."""


class ActivitiesRoutes:
    pass
