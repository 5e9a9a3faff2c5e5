"""The API's edge cache: CloudFront in front of the REST API, serving anonymous public GETs
from its cache for as long as their `Cache-Control` says, and nothing signed in.

Why CloudFront and not API Gateway's stage cache: the stage cache keeps every answer of a
cached method for a fixed TTL whatever the function's `Cache-Control` says (it would store
a signed-in owner's answer too, unless `Authorization` were a cache key parameter of every
method, and then still store it per token), costs by the hour from the smallest size up
(0.5 GB: $0.020 an hour in us-east-1, about $15 a month, whatever the traffic), and is
keyed only on the query parameters each method declares as cache key parameters.
CloudFront honours the origin's `Cache-Control` when the policy's minimum TTL is 0, is
paid per request, and moves the answers next to the shoppers.

What is cached, and on what (the cache policy):
- the key: the whole query string (every listing parameter changes the answer), the
  `Origin` header (the answer's `Access-Control-Allow-Origin` depends on it) and the
  `Authorization` header; no cookies (the API reads none).
- `Authorization` is in the key because CloudFront forwards it to the origin only from the
  cache key (an origin request policy may not name it), and so that even a stored answer
  could only ever be served to the same token. No signed-in answer is stored at all: the
  API answers every request carrying `Authorization` with `Cache-Control: no-store`
  (catalog.http.pipeline), which CloudFront obeys because the minimum TTL is 0.
- TTLs: minimum 0 and default 0 (an answer without `Cache-Control` is not stored: errors,
  writes, anything the API did not mark cacheable), maximum MAX_TTL_S (an answer asking for
  more is kept that long at most).
- Only GET and HEAD are cached; every method passes (one base URL for clients); the origin
  request policy forwards every viewer header but `Host` (API Gateway routes on its own).

The WAF stays on the API stage (a CloudFront web ACL must live in us-east-1): through
CloudFront every request reaches it from CloudFront's addresses, so the per-IP rate rules
would lump shoppers together. A viewer-request function writes the viewer's address into
`VIEWER_IP_HEADER` (over anything the client sent), CloudFront adds the origin secret
header `ORIGIN_VERIFY_HEADER` (a generated secret, resolved by CloudFormation), and the
web ACL (infra/stack/edge.py) rate-limits requests carrying the secret by the viewer
address, and all others by their source address as before. Whoever may read the
distribution's or the web ACL's configuration can read the secret; someone holding it
could name their own viewer address to the API's URL and so dodge the per-client limits
(never the managed groups nor the stage's throttles): rotate it if it leaks.
"""

from __future__ import annotations

from aws_cdk import (
    CfnOutput,
    Duration,
    aws_apigateway as apigateway,
    aws_cloudfront as cloudfront,
    aws_cloudfront_origins as origins,
    aws_secretsmanager as secretsmanager,
)
from constructs import Construct

from catalog.http.api import EDGE_HEADER
from infra.stack import base
from infra.stack.base import Concern
from infra.stages import Stage

MAX_TTL_S = 300  # the longest any answer stays at the edge, whatever it asks for
CACHE_KEY_HEADERS = ("Authorization", "Origin")
VIEWER_IP_HEADER = "X-Catalog-Viewer-Ip"
# Added by CloudFront with the origin secret: the WAF trusts its value, the functions only
# its presence (catalog.http.api.location: the client called the distribution's root).
ORIGIN_VERIFY_HEADER = EDGE_HEADER
VIEWER_IP_FUNCTION = f"""function handler(event) {{
  // The viewer's own address, for the WAF's per-client rate rules; a client's copy of the
  // header is overwritten, never trusted.
  event.request.headers['{VIEWER_IP_HEADER.lower()}'] = {{ value: event.viewer.ip }};
  return event.request;
}}
"""


class Cdn(Concern):
    """Exposes `distribution`, `cache_policy`, `origin_secret` and `url`; needs the REST API."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: Stage, rest_api: apigateway.RestApi
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.origin_secret = self._build_origin_secret()
        self.cache_policy = self._build_cache_policy()
        self.distribution = self._build_distribution(rest_api)
        self.url = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(
            self,
            "CdnUrl",
            value=self.url,
            description="Base URL of the catalog API through the edge cache (CloudFront)",
        )

    @property
    def origin_secret_value(self) -> str:
        """The secret as a CloudFormation dynamic reference (resolved at deploy, never in
        the template)."""
        return str(self.origin_secret.secret_value.unsafe_unwrap())

    def _build_origin_secret(self) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "CdnOriginSecret",
            description=f"catalog {self.stage.name}: the header CloudFront adds to API requests",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=48
            ),
            removal_policy=self.removal,  # as the stage's other secrets
        )
        base.acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The value lives in two places CloudFormation writes at once (the distribution's "
            "origin header and the web ACL's match); rotating it is a deploy after "
            "`put-secret-value`, not a rotation Lambda that would update one and not the other.",
        )
        return secret

    def _build_cache_policy(self) -> cloudfront.CachePolicy:
        return cloudfront.CachePolicy(
            self,
            "ApiCachePolicy",
            comment=f"catalog {self.stage.name}: anonymous public GETs, by their Cache-Control",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(MAX_TTL_S),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list(*CACHE_KEY_HEADERS),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )

    def _build_distribution(self, rest_api: apigateway.RestApi) -> cloudfront.Distribution:
        viewer_ip = cloudfront.Function(
            self,
            "ViewerIpFunction",
            code=cloudfront.FunctionCode.from_inline(VIEWER_IP_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Writes the viewer's address for the API's WAF rate rules",
        )
        origin = origins.RestApiOrigin(
            rest_api, custom_headers={ORIGIN_VERIFY_HEADER: self.origin_secret_value}
        )
        distribution = cloudfront.Distribution(
            self,
            "ApiCdn",
            comment=f"catalog {self.stage.name}: the API, anonymous public GETs cached",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=self.cache_policy,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=viewer_ip, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self._acknowledge_distribution(distribution)
        return distribution

    def _acknowledge_distribution(self, distribution: cloudfront.Distribution) -> None:
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "The catalog is public content for shoppers everywhere; no country is excluded.",
        )
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "The API's regional web ACL (infra/stack/edge.py) inspects every request the "
            "distribution forwards, rate-limiting by the viewer's address; a CLOUDFRONT-scope "
            "ACL must be created in us-east-1, outside this regional stack.",
        )
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR3",
            "Standard access logs need an ACL-enabled log bucket per stage; every request that "
            "reaches the API is in its access log, and cache hits in the distribution's "
            "CloudWatch metrics.",
        )
        base.acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The default *.cloudfront.net certificate lets CloudFront choose the viewer TLS "
            "policy; a custom domain with its ACM certificate, where TLSv1.2_2021 is set, comes "
            "with the shop's domain.",
        )
