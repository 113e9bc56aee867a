"""Developer tooling (local stack, DynamoDB Local); never imported by the deployed app."""
