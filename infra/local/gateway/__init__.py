"""Local API Gateway: HTTP requests in, REST proxy events to the topology's functions, out.

It serves exactly the routes the topology declares (plus, like the CDK stack, an `ANY`
fallback per path so the owning function answers 405 and CORS preflight), builds events
the way API Gateway's Lambda proxy integration does, and answers with the same gateway
responses as the deployed API when no function is involved.

`routes.py` (the route table), `events.py` (proxy events), `server.py` (the server, the
authorizer, the gateway's own answers).
"""

from infra.local.gateway.routes import ANY, GatewayRoute, route_table
from infra.local.gateway.server import MAX_REQUEST_BYTES, LocalGateway, describe

__all__ = ["ANY", "MAX_REQUEST_BYTES", "GatewayRoute", "LocalGateway", "describe", "route_table"]
