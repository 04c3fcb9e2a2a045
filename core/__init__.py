"""Shared pieces that every app uses and that are not tenancy: text cleaning, the outbound
address policy, job leases."""
