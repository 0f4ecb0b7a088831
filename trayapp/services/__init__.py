"""Long-lived services: the usage poller, the alert policy runner, local usage tracking (the ledger
service, its writer and their Qt face) and exports."""
