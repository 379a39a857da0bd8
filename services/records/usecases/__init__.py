"""Records' use cases, one module per area: entries and hours, the record, certificates, exports."""
