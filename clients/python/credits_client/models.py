"""Every model of the API (generated from its OpenAPI description): `from credits_client.models import Job`."""

from credits_client.generated.models import *  # noqa: F403
from credits_client.generated.models import __all__ as __all__
