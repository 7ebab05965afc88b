from enum import StrEnum


class GrantSource(StrEnum):
    ADJUSTMENT = "adjustment"
    ADMIN = "admin"
    AUTO_TOP_UP = "auto_top_up"
    MIGRATION = "migration"
    PURCHASE = "purchase"
    SIGNUP = "signup"

    def __str__(self) -> str:
        return str(self.value)
