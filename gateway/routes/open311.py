"""Open311 GeoReport v2 for other systems (12345 hotlines and any Open311 client)."""


class Open311Routes:
    pass
