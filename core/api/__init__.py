"""What every app's API operations share: the error shape, the schemas, the session auth, JSON answers."""
