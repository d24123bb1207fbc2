//! Integration tests for mitid-harness; this package has no library code of its own.
//!
//! The tests in `tests/` depend on the harness, the mock broker and the reference SPs
//! (`mitid-reference`); nothing depends on this package.
