"""SMS through Twilio: REST client, shared rate limiter, exactly-once blasts, RQ jobs, receipts."""
