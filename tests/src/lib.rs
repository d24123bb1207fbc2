//! Integration-test support: reference SPs.
