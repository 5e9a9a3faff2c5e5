"""Users: profiles in DynamoDB keyed by the Cognito `sub`, and the Cognito directory."""
