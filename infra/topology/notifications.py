"""Change events and notifications: the products stream, signed webhooks and emails.

products stream -> publisher -> product-changes topic -> webhook-events / email-events queues.
A webhook delivery is its own message (webhook-deliveries), so each receiver retries alone.
"""

from __future__ import annotations

from infra.topology.model import (
    Capability,
    Function,
    Index,
    Queue,
    QueueSource,
    StreamSource,
    Subscription,
    Table,
    Topic,
)

NOTIFICATIONS = Capability(
    "notifications",
    functions=(
        Function(
            "publisher", code="functions/publisher", timeout_s=30, topics=("product-changes",)
        ),
        Function(
            "webhooks",
            code="functions/webhooks",
            tables={"notifications": "write", "access": "read"},
            queues=("webhook-deliveries",),
        ),
        Function(
            "webhook-dispatch",
            code="functions/webhook_dispatch",
            timeout_s=30,
            tables={"notifications": "read"},
            queues=("webhook-deliveries",),
        ),
        # Posts one event to one receiver per message: 5 messages x 5 s receiver timeout < 30 s.
        Function(
            "webhook-delivery",
            code="functions/webhook_delivery",
            timeout_s=30,
            tables={"notifications": "write"},
            queues=("webhook-deliveries",),
        ),
        Function(
            "subscriptions",
            code="functions/subscriptions",
            tables={"notifications": "write", "products": "read", "access": "read"},
        ),
        Function(
            "emails",
            code="functions/emails",
            timeout_s=30,
            tables={"notifications": "write", "users": "read"},
            sends_email=True,
        ),
    ),
    tables=(
        # Webhooks, their recent deliveries (expired by TTL) and users' email subscriptions.
        Table(
            name="notifications",
            partition_key="pk",
            sort_key="sk",
            # Every webhook (sparse: webhook items only), for dispatching and the admin listing.
            indexes=(Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),),
            ttl_attribute="expires_at",
        ),
    ),
    topics=(Topic("product-changes"),),
    queues=(
        # The publisher's stream batches that failed all retries (described, not the records).
        Queue("publisher-failures"),
        Queue("webhook-events", visibility_timeout_s=180),
        # Retries are scheduled by the consumer (growing delays, stage setting); after
        # max_receives attempts the delivery is in the DLQ.
        Queue("webhook-deliveries", visibility_timeout_s=180, max_receives=8),
        Queue("email-events", visibility_timeout_s=180),
    ),
    # Publishing fails only when SNS does (transiently): retry long before giving up.
    streams=(
        StreamSource(
            "products",
            "publisher",
            batch_size=100,
            max_retries=10,
            on_failure="publisher-failures",
        ),
    ),
    subscriptions=(
        Subscription("product-changes", "webhook-events"),
        Subscription(
            "product-changes",
            "email-events",
            filter_policy={"type": ["product.published", "product.price_changed"]},
        ),
    ),
    queue_sources=(
        QueueSource("webhook-events", "webhook-dispatch", batch_size=10),
        QueueSource("webhook-deliveries", "webhook-delivery", batch_size=5),
        QueueSource("email-events", "emails", batch_size=10),
    ),
)
