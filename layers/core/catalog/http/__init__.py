"""The HTTP entry point of every API function: routes, the request pipeline, problem+json."""
