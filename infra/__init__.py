"""The CDK app, the single topology both runtimes are built from, and the local runner."""
