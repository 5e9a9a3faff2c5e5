"""The names of the business metrics the functions emit (Powertools Metrics, EMF), in one place.

Every one is a Count in the `Catalog` namespace with the `service` dimension Powertools adds;
the operations dashboard (infra/stack/monitoring.py) graphs these same names, so a name
changed here changes both the emitter and its graph.
"""

from __future__ import annotations

PRODUCT_CREATED = "ProductCreated"
PRODUCT_UPDATED = "ProductUpdated"
PRODUCT_DELETED = "ProductDeleted"
IMAGE_UPLOAD_REQUESTED = "ImageUploadRequested"
IMAGE_READY = "ImageReady"  # processed: renditions written
IMAGE_REJECTED = "ImageRejected"
IMAGE_UPLOAD_IGNORED = "ImageUploadIgnored"
IMAGE_DELETED = "ImageDeleted"
SIGN_UP = "SignUp"  # a new account (not a registration answered for a taken email)
SIGN_IN_FAILED = "SignInFailed"
# Webhook delivery: each attempt either delivered or failed; a retried attempt also counts
# as a retry. A delivery that used up its attempts lands in the dead-letter queue (alarmed).
WEBHOOK_DELIVERED = "WebhookDelivered"
WEBHOOK_DELIVERY_FAILED = "WebhookDeliveryFailed"
WEBHOOK_RETRIED = "WebhookRetried"

# The dashboard's sections: title -> the metrics it graphs.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Products": (PRODUCT_CREATED, PRODUCT_UPDATED, PRODUCT_DELETED),
    "Images": (IMAGE_UPLOAD_REQUESTED, IMAGE_READY, IMAGE_REJECTED, IMAGE_DELETED),
    "Accounts": (SIGN_UP, SIGN_IN_FAILED),
    "Webhook delivery": (WEBHOOK_DELIVERED, WEBHOOK_RETRIED, WEBHOOK_DELIVERY_FAILED),
}
