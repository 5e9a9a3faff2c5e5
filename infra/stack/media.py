"""Product images: Pillow's layer, browser uploads to the media bucket, CloudFront in front."""

from __future__ import annotations

from aws_cdk import (
    Annotations,
    CfnOutput,
    Stack,
    aws_cloudfront as cloudfront,
    aws_cloudfront_origins as origins,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_s3 as s3,
)
from constructs import Construct

from infra import topology
from infra.stack import base
from infra.stack.base import ARCHITECTURE, LAYER_ASSETS, PYTHON, Concern
from infra.stack.logical_ids import unique_id, unique_resource_name
from infra.stages import Stage

DISTRIBUTION_ID = "ImagesCdn"
# CloudFront's limit on an origin access control's name (Names.uniqueResourceName's cap).
OAC_NAME_MAX_LENGTH = 64


class Media(Concern):
    """Exposes `layer` (the images layer, if a function needs it), `distribution` and
    `images_base_url` (if the topology has a media bucket); needs that bucket."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: Stage, bucket: s3.Bucket | None
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        needs_layer = any("images" in spec.layers for spec in topology.FUNCTIONS.values())
        self.layer = self._build_layer() if needs_layer else None
        self.distribution = self._build_delivery(bucket) if bucket is not None else None
        self.images_base_url = (
            f"https://{self.distribution.distribution_domain_name}" if self.distribution else None
        )

    def _build_layer(self) -> lambda_.LayerVersion:
        folder = LAYER_ASSETS / "images"
        if not (folder / "python" / "PIL").is_dir():
            raise SystemExit(f"{folder} is missing: run `make build` (scripts/build_layers.py)")
        return lambda_.LayerVersion(
            self,
            "ImagesLayer",
            code=base.code_asset(folder),
            compatible_runtimes=[PYTHON],
            compatible_architectures=[ARCHITECTURE],
            description="Pillow, for the image processor alone",
        )

    def _build_delivery(self, bucket: s3.Bucket) -> cloudfront.Distribution:
        """CloudFront in front of the media bucket's `images/` renditions, reading through
        origin access control: the bucket stays private, and the distribution may read
        `images/*` only, never `uploads/*` (browser uploads: the topology's bucket, CORS)."""
        distribution = self._build_distribution(bucket)
        self._grant_distribution(bucket, distribution)
        self._acknowledge_distribution(distribution)
        CfnOutput(
            self,
            "ImagesUrl",
            value=f"https://{distribution.distribution_domain_name}",
            description="Where product image renditions are served",
        )
        return distribution

    def _build_distribution(self, bucket: s3.Bucket) -> cloudfront.Distribution:
        # The origin reads an imported view of the bucket, so that CDK does not grant the
        # distribution every object (`/*`); `_grant_distribution` names the served prefix.
        origin_bucket = s3.Bucket.from_bucket_attributes(
            self,
            "MediaBucketOrigin",
            bucket_arn=bucket.bucket_arn,
            bucket_regional_domain_name=bucket.bucket_regional_domain_name,
        )
        # CDK names the origin after its construct path (Names.uniqueId of `Origin1`): named
        # as before the concerns, the deployed distribution keeps its origin.
        origin = origins.S3BucketOrigin.with_origin_access_control(
            origin_bucket, origin_id=unique_id(self, DISTRIBUTION_ID, "Origin1")
        )
        distribution = cloudfront.Distribution(
            self,
            DISTRIBUTION_ID,
            comment=f"catalog {self.stage.name}: product image renditions",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=False,  # WebP is compressed already
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        # The origin access control is named after its path too (Names.uniqueResourceName).
        control = distribution.node.find_child("Origin1").node.find_child("S3OriginAccessControl")
        cfn_control = control.node.default_child
        assert isinstance(cfn_control, cloudfront.CfnOriginAccessControl)
        cfn_control.add_property_override(
            "OriginAccessControlConfig.Name",
            unique_resource_name(control, max_length=OAC_NAME_MAX_LENGTH),
        )
        # The bucket is imported on purpose (above): its policy gets the grant right below.
        Annotations.of(distribution).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
            "the statement granting the distribution images/* is added to the bucket's policy",
        )
        return distribution

    def _grant_distribution(self, bucket: s3.Bucket, distribution: cloudfront.Distribution) -> None:
        stack = Stack.of(self)
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsRenditionsOnly",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{topology.PUBLIC_MEDIA_PREFIX}*")],
                conditions={
                    "StringEquals": {
                        "AWS:SourceArn": f"arn:{stack.partition}:cloudfront::{stack.account}:"
                        f"distribution/{distribution.distribution_id}"
                    }
                },
            )
        )

    def _acknowledge_distribution(self, distribution: cloudfront.Distribution) -> None:
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "Product images are public catalog content meant for shoppers everywhere; no "
            "country is to be excluded.",
        )
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "The distribution serves static, public WebP files from S3 (GET/HEAD only, no "
            "origin compute to protect); the WAF web ACL planned for the API is not built yet.",
        )
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR3",
            "Standard access logs need an ACL-enabled log bucket per stage; requests and "
            "errors are visible in the distribution's CloudWatch metrics meanwhile.",
        )
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The default *.cloudfront.net certificate lets CloudFront choose the viewer TLS "
            "policy (TLSv1 allowed); a custom domain with its ACM certificate, where "
            "TLSv1.2_2021 is set, comes with the shop's domain.",
        )
