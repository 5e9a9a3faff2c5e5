"""Products and categories: the catalog itself, its reads and writes, and the meta routes."""

from __future__ import annotations

from infra.topology.model import Capability, Function, Index, Secret, Table

PRODUCTS = Capability(
    "products",
    functions=(
        Function(
            "products",
            code="functions/products",
            memory_mb=256,
            tables={"products": "write", "idempotency": "write", "access": "read"},
            secrets=("cursor-key",),
            init_clients=("dynamodb",),
        ),
        Function(
            "meta",
            code="functions/meta",
            memory_mb=128,
            tables={"products": "read", "access": "read"},
            init_clients=("dynamodb",),
            # The docs page's Swagger UI (scripts/build_layers.py: vendor_swagger_ui).
            built=("swagger-ui/swagger-ui-bundle.min.js", "swagger-ui/swagger-ui.min.css"),
        ),
        Function(
            "categories",
            code="functions/categories",
            memory_mb=256,
            tables={"products": "write", "access": "read"},
            init_clients=("dynamodb",),
        ),
    ),
    tables=(
        Table(
            name="products",
            partition_key="pk",
            sort_key="sk",
            indexes=(
                # Products by status, newest first: gsi1pk is STATUS#<status> on product items
                # only (a sparse index: SKU guards are not in it), gsi1sk the time-sortable id.
                Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),
                # Products of one category and status, by creation: CAT#<category>#<status>.
                Index("gsi2", partition_key="gsi2pk", sort_key="gsi2sk"),
                # The same two partitions ordered by price (sort key <cents, 10 digits>#<id>),
                # so price order and price ranges are key conditions, not filters.
                Index("gsi3", partition_key="gsi1pk", sort_key="gsi3sk"),
                Index("gsi4", partition_key="gsi2pk", sort_key="gsi3sk"),
                # ... and by name (sort key: the name without case or accents, then #<id>).
                Index("gsi5", partition_key="gsi1pk", sort_key="gsi5sk"),
                Index("gsi6", partition_key="gsi2pk", sort_key="gsi5sk"),
            ),
            stream="NEW_AND_OLD_IMAGES",
        ),
        # Powertools idempotency records (Idempotency-Key on POSTs), expired by DynamoDB TTL.
        Table(name="idempotency", partition_key="id", ttl_attribute="expiration"),
    ),
    secrets=(
        Secret(
            "cursor-key", env_var="CURSOR_SECRET_ID", description="HMAC key of pagination cursors"
        ),
    ),
)
