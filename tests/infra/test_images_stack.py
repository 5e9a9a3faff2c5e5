"""The product images' cloud side: a private media bucket, CloudFront reading `images/*`
only, Pillow in the images function's layer alone, and its two event sources."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import topology
from infra.stages import stage as stage_config
from tests.infra.conftest import _getatt_targets
from tests.infra.test_stack import ref_target

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def media_bucket(synth: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical, r["Properties"])
        for logical, r in synth.of_type("AWS::S3::Bucket").items()
        if "catalog-" in json.dumps(r["Properties"].get("BucketName"))
        and "-media-" in json.dumps(r["Properties"].get("BucketName"))
    ]
    return found


def bucket_statements(synth: Any, bucket_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return list(policy)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_media_bucket_is_private_encrypted_and_takes_browser_posts(
    synth_stage: Any, name: str
) -> None:
    synth = synth_stage(name)
    bucket_id, props = media_bucket(synth)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    (rule,) = props["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]  # uploads only: renditions come via CloudFront
    assert rule["AllowedOrigins"] == list(stage_config(name).cors_allow_origins)
    (expiry,) = props["LifecycleConfiguration"]["Rules"]
    assert (expiry["Prefix"], expiry["ExpirationInDays"]) == ("uploads/", 1)
    tls_only = [
        s
        for s in bucket_statements(synth, bucket_id)
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert tls_only


def test_cloudfront_reads_renditions_only_through_origin_access_control(dev: Any) -> None:
    bucket_id, _ = media_bucket(dev)
    # The images' distribution (the API's edge cache is the other: tests/infra/test_cdn.py)
    ((cdn_id, cdn),) = [
        (logical_id, distribution)
        for logical_id, distribution in dev.of_type("AWS::CloudFront::Distribution").items()
        if bucket_id in json.dumps(distribution["Properties"]["DistributionConfig"]["Origins"])
    ]
    config = cdn["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert ref_target(origin["DomainName"]) == bucket_id
    oac = dev.resources[ref_target(origin["OriginAccessControlId"])]["Properties"]
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    # The bucket lets this distribution read images/* and nothing else, and nobody else
    allows = [s for s in bucket_statements(dev, bucket_id) if s["Effect"] == "Allow"]
    (grant,) = allows
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    resource = json.dumps(grant["Resource"])
    assert resource.endswith('"/images/*"]]}')
    assert cdn_id in json.dumps(grant["Condition"]["StringEquals"]["AWS:SourceArn"])


def test_pillow_ships_in_the_images_function_alone(dev: Any) -> None:
    layer_of = {
        name: {ref_target(layer) for layer in dev.function(name)["Properties"]["Layers"]}
        for name in topology.FUNCTIONS
    }
    images_layers = layer_of["image-processor"]
    assert len(images_layers) == 2
    (core,) = layer_of["products"]
    (pillow,) = images_layers - {core}
    assert "Pillow" in dev.resources[pillow]["Properties"]["Description"]
    for name, layers in layer_of.items():
        if name != "image-processor":
            assert layers == {core}, name


def test_the_images_function_consumes_the_uploads_queue_and_the_products_stream(
    dev: Any,
) -> None:
    images = dev.function_ids()["image-processor"]
    mappings = [
        m["Properties"]
        for m in dev.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": images}
    ]
    by_kind = {("stream" if "StartingPosition" in m else "queue"): m for m in mappings}
    assert set(by_kind) == {"stream", "queue"}
    assert by_kind["queue"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (queue_arn,) = _getatt_targets(by_kind["queue"]["EventSourceArn"])
    props = dev.resources[queue_arn]["Properties"]
    assert props["VisibilityTimeout"] >= 6 * topology.FUNCTIONS["image-processor"].timeout_s
    assert props["RedrivePolicy"]["maxReceiveCount"] == 5
    stream = by_kind["stream"]
    (table,) = _getatt_targets(stream["EventSourceArn"])
    assert dev.resources[table]["Type"] == "AWS::DynamoDB::Table"
    assert "OnFailure" in stream["DestinationConfig"]


def test_the_image_api_may_sign_uploads_and_delete_files_but_not_list_them(dev: Any) -> None:
    role = dev.function("product-images")["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {
        action
        for p in dev.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if action.startswith("s3:")
    }
    assert {"s3:PutObject", "s3:DeleteObject"} <= granted
    assert "s3:ListBucket" not in granted
    products = dev.function("products")["Properties"]["Environment"]["Variables"]
    assert "BUCKET_MEDIA" not in products  # the products function has no bucket rights
