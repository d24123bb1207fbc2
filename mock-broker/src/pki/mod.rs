//! Mock PKI (placeholder; being written).
