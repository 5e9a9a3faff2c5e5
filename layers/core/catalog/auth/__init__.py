"""Sign-up, sign-in and password flows against the Cognito user pool."""
