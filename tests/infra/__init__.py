"""Infrastructure tests: the synthesized CDK stack, cfn-lint, cdk-nag and route parity."""
