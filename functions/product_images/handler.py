"""Product images API: upload forms and removal under /v1/products/{id}/images.

A function of its own (not the products function): it alone holds the media bucket's
rights, and its S3 client is created on first use. Pillow is never imported here.
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from catalog.core import business_metrics as names
from catalog.core.observability import metrics
from catalog.http.api import JSON, Api
from catalog.http.responses import empty, problems, returns
from catalog.images.schemas import ImageUpload, ImageUploadRequest
from catalog.images.service import ImageService
from catalog.images.storage import MediaBucket
from catalog.products.repository import ProductRepository
from catalog.products.service import ProductService

app = Api.of("product-images", tags=["images"])
repository = ProductRepository()
service = ImageService(ProductService(repository), repository, MediaBucket())


@app.operation(
    responses={
        **returns(201, ImageUpload, "The image, pending, and the form that uploads its file"),
        **problems(400, 401, 403, 404, 409, 413, 415, 422),
    },
)
def request_upload(id: str, body: Annotated[ImageUploadRequest, Body()]) -> Response[str]:
    """Add an image to a product (its owner or an admin; at most 10 per product).

    Answers a presigned S3 form: POST its `fields` and then the file (as the last field,
    `file`) as multipart/form-data to `upload.url` before `expires_at`. S3 accepts only
    the declared content type and at most `content_length` bytes. The image is listed on
    the product as `pending`, then `ready` (with renditions) or `rejected` (with a reason).
    """
    upload = service.request_upload(id, body, app.signed_in())
    metrics.add_metric(name=names.IMAGE_UPLOAD_REQUESTED, unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=JSON, body=upload.model_dump_json())


@app.operation(
    responses={**empty(204, "The image is removed"), **problems(401, 403, 404, 409)},
)
def delete_image(id: str, image_id: str) -> Response[None]:
    """Remove an image from a product and delete its files (its owner or an admin)."""
    service.delete_image(id, image_id, app.signed_in())
    metrics.add_metric(name=names.IMAGE_DELETED, unit=MetricUnit.Count, value=1)
    return Response(status_code=204, body=None)


lambda_handler = catalog.runtime.ready(app.handler())
