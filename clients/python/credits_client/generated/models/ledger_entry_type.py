from enum import StrEnum


class LedgerEntryType(StrEnum):
    ADJUSTMENT = "adjustment"
    CLAWBACK = "clawback"
    DISPUTE = "dispute"
    DISPUTE_REVERSAL = "dispute_reversal"
    EXPIRY = "expiry"
    GRANT = "grant"
    JOB_DEBIT = "job_debit"
    JOB_RELEASE = "job_release"
    PURCHASE = "purchase"
    REFUND = "refund"
    REFUND_REVERSAL = "refund_reversal"
    VOID = "void"

    def __str__(self) -> str:
        return str(self.value)
