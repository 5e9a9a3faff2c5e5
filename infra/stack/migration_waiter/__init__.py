"""The deploy's wait for the migrations: a CloudFormation custom resource's two handlers."""
