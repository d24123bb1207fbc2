//! mitid-harness
