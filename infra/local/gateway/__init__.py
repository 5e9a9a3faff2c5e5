"""Local API Gateway: HTTP requests in, REST proxy events to the topology's functions, out.

It serves exactly the routes the topology declares (plus, like the CDK stack, an `ANY`
fallback per path so the owning function answers 405 and CORS preflight), builds events
the way API Gateway's Lambda proxy integration does, and answers with the same gateway
responses as the deployed API when no function is involved.

`protocol.py` and `request.py` (HTTP/1.1 on the wire: limits, timeouts, what is refused),
`routes.py` (the route table), `throttle.py` (the stage's limits per method), `events.py`
(proxy events and results), `server.py` (the server, the authorizer, the gateway's own
answers).
"""

from infra.local.gateway.request import MAX_REQUEST_BYTES
from infra.local.gateway.routes import ANY, GatewayRoute, route_table
from infra.local.gateway.server import LocalGateway, describe

__all__ = ["ANY", "MAX_REQUEST_BYTES", "GatewayRoute", "LocalGateway", "describe", "route_table"]
