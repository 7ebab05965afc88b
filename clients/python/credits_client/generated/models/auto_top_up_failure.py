from enum import StrEnum


class AutoTopUpFailure(StrEnum):
    AUTHENTICATION_REQUIRED = "authentication_required"
    CARD_DECLINED = "card_declined"
    CARD_DELETED = "card_deleted"
    NO_DEFAULT_CARD = "no_default_card"
    PACKAGE_UNAVAILABLE = "package_unavailable"

    def __str__(self) -> str:
        return str(self.value)
