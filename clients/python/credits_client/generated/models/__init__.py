"""Contains all the data models used in inputs/outputs"""

from .account import Account
from .account_limits import AccountLimits
from .admin_account_limits_update import AdminAccountLimitsUpdate
from .admin_key_update import AdminKeyUpdate
from .admin_stats import AdminStats
from .api_key import ApiKey
from .api_key_page import ApiKeyPage
from .api_key_status import ApiKeyStatus
from .auto_top_up import AutoTopUp
from .auto_top_up_failure import AutoTopUpFailure
from .auto_top_up_input import AutoTopUpInput
from .callback_error import CallbackError
from .callback_progress import CallbackProgress
from .callback_usage import CallbackUsage
from .cancel_policy import CancelPolicy
from .create_job_request import CreateJobRequest
from .create_job_request_input import CreateJobRequestInput
from .create_key_body import CreateKeyBody
from .credit_adjustment_input import CreditAdjustmentInput
from .credit_grant import CreditGrant
from .credit_grant_input import CreditGrantInput
from .credit_grant_page import CreditGrantPage
from .credit_package import CreditPackage
from .credit_package_page import CreditPackagePage
from .delivery_attempt import DeliveryAttempt
from .delivery_attempt_page import DeliveryAttemptPage
from .empty_body import EmptyBody
from .error_detail import ErrorDetail
from .error_detail_code import ErrorDetailCode
from .error_detail_type import ErrorDetailType
from .error_envelope import ErrorEnvelope
from .fixed_pricing import FixedPricing
from .grant_category import GrantCategory
from .grant_source import GrantSource
from .grant_status import GrantStatus
from .health import Health
from .job import Job
from .job_callback_answer import JobCallbackAnswer
from .job_callback_body import JobCallbackBody
from .job_callback_body_result import JobCallbackBodyResult
from .job_completion import JobCompletion
from .job_failure import JobFailure
from .job_input import JobInput
from .job_list_item import JobListItem
from .job_list_item_input import JobListItemInput
from .job_list_item_page import JobListItemPage
from .job_list_item_result import JobListItemResult
from .job_progress import JobProgress
from .job_result import JobResult
from .job_status import JobStatus
from .job_test_mode import JobTestMode
from .job_type import JobType
from .job_type_deleted import JobTypeDeleted
from .job_type_input import JobTypeInput
from .job_type_input_sample_result import JobTypeInputSampleResult
from .job_type_listing import JobTypeListing
from .job_type_listing_page import JobTypeListingPage
from .job_type_page import JobTypePage
from .job_type_sample_result import JobTypeSampleResult
from .job_usage import JobUsage
from .key_environment import KeyEnvironment
from .ledger_entry import LedgerEntry
from .ledger_entry_page import LedgerEntryPage
from .ledger_entry_type import LedgerEntryType
from .list_jobs_expand_item import ListJobsExpandItem
from .maintenance_input import MaintenanceInput
from .maintenance_state import MaintenanceState
from .metered_pricing import MeteredPricing
from .new_api_key import NewApiKey
from .new_api_key_status import NewApiKeyStatus
from .new_purchase import NewPurchase
from .next_action import NextAction
from .open_api_document import OpenApiDocument
from .open_api_document_info import OpenApiDocumentInfo
from .open_api_document_paths import OpenApiDocumentPaths
from .payment_method import PaymentMethod
from .payment_method_deleted import PaymentMethodDeleted
from .payment_method_page import PaymentMethodPage
from .purchase import Purchase
from .purchase_status import PurchaseStatus
from .recover_input import RecoverInput
from .register_card import RegisterCard
from .roll_key_body import RollKeyBody
from .rolled_api_key import RolledApiKey
from .rolled_api_key_status import RolledApiKeyStatus
from .setup_intent import SetupIntent
from .signup_grant import SignupGrant
from .signup_grant_input import SignupGrantInput
from .update_key_body import UpdateKeyBody
from .usage_counts import UsageCounts
from .usage_day import UsageDay
from .usage_report import UsageReport
from .webhook_deleted import WebhookDeleted
from .webhook_endpoint import WebhookEndpoint
from .webhook_endpoint_input import WebhookEndpointInput
from .webhook_endpoint_input_events_item import WebhookEndpointInputEventsItem
from .webhook_endpoint_status import WebhookEndpointStatus
from .webhook_event_retried import WebhookEventRetried
from .webhook_recovered import WebhookRecovered
from .webhook_test_event import WebhookTestEvent
from .who_am_i import WhoAmI

__all__ = (
    "Account",
    "AccountLimits",
    "AdminAccountLimitsUpdate",
    "AdminKeyUpdate",
    "AdminStats",
    "ApiKey",
    "ApiKeyPage",
    "ApiKeyStatus",
    "AutoTopUp",
    "AutoTopUpFailure",
    "AutoTopUpInput",
    "CallbackError",
    "CallbackProgress",
    "CallbackUsage",
    "CancelPolicy",
    "CreateJobRequest",
    "CreateJobRequestInput",
    "CreateKeyBody",
    "CreditAdjustmentInput",
    "CreditGrant",
    "CreditGrantInput",
    "CreditGrantPage",
    "CreditPackage",
    "CreditPackagePage",
    "DeliveryAttempt",
    "DeliveryAttemptPage",
    "EmptyBody",
    "ErrorDetail",
    "ErrorDetailCode",
    "ErrorDetailType",
    "ErrorEnvelope",
    "FixedPricing",
    "GrantCategory",
    "GrantSource",
    "GrantStatus",
    "Health",
    "Job",
    "JobCallbackAnswer",
    "JobCallbackBody",
    "JobCallbackBodyResult",
    "JobCompletion",
    "JobFailure",
    "JobInput",
    "JobListItem",
    "JobListItemInput",
    "JobListItemPage",
    "JobListItemResult",
    "JobProgress",
    "JobResult",
    "JobStatus",
    "JobTestMode",
    "JobType",
    "JobTypeDeleted",
    "JobTypeInput",
    "JobTypeInputSampleResult",
    "JobTypeListing",
    "JobTypeListingPage",
    "JobTypePage",
    "JobTypeSampleResult",
    "JobUsage",
    "KeyEnvironment",
    "LedgerEntry",
    "LedgerEntryPage",
    "LedgerEntryType",
    "ListJobsExpandItem",
    "MaintenanceInput",
    "MaintenanceState",
    "MeteredPricing",
    "NewApiKey",
    "NewApiKeyStatus",
    "NewPurchase",
    "NextAction",
    "OpenApiDocument",
    "OpenApiDocumentInfo",
    "OpenApiDocumentPaths",
    "PaymentMethod",
    "PaymentMethodDeleted",
    "PaymentMethodPage",
    "Purchase",
    "PurchaseStatus",
    "RecoverInput",
    "RegisterCard",
    "RollKeyBody",
    "RolledApiKey",
    "RolledApiKeyStatus",
    "SetupIntent",
    "SignupGrant",
    "SignupGrantInput",
    "UpdateKeyBody",
    "UsageCounts",
    "UsageDay",
    "UsageReport",
    "WebhookDeleted",
    "WebhookEndpoint",
    "WebhookEndpointInput",
    "WebhookEndpointInputEventsItem",
    "WebhookEndpointStatus",
    "WebhookEventRetried",
    "WebhookRecovered",
    "WebhookTestEvent",
    "WhoAmI",
)
