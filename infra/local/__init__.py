"""The local runner: moto server as AWS, provisioned from the topology, and a local gateway."""
