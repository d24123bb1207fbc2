//! The one error type of the mock PKI.
//!
//! Every message names the file (or fixture) the bad bytes came from, because the usual cause is
//! a user pointing the broker at the wrong file: a certificate where the key should be, an
//! encrypted key, or a key that belongs to another certificate.

use std::path::PathBuf;

/// Why a key or certificate could not be loaded, classified or used.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A key or certificate file could not be read from disk.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The private key PEM/DER is missing, encrypted, of an unsupported type or malformed.
    #[error("cannot parse private key in {source_name}: {reason}")]
    Key {
        /// Where the key came from (a path, a fixture name, or "PEM text").
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate PEM/DER is missing or malformed.
    #[error("cannot parse certificate in {source_name}: {reason}")]
    Cert {
        /// Where the certificate came from.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key parses, but its public half is not the certificate's public key.
    #[error(
        "the private key in {key_source} does not belong to the certificate in {cert_source} ({subject})"
    )]
    KeyMismatch {
        /// Where the key came from.
        key_source: String,
        /// Where the certificate came from.
        cert_source: String,
        /// The certificate's subject, to help spot the mix-up.
        subject: String,
    },
    /// An operation needed the private key, but the credential was loaded from a certificate only.
    #[error("credential {subject} has no private key")]
    NoPrivateKey {
        /// The certificate's subject.
        subject: String,
    },
    /// The operation needs another key type (e.g. an RSA signer from a P-256 key).
    #[error("credential {subject} has a {actual} key, but {wanted} is needed")]
    WrongKeyType {
        /// The certificate's subject.
        subject: String,
        /// The key type the operation needs.
        wanted: &'static str,
        /// The key type the credential has.
        actual: &'static str,
    },
    /// The crypto backend refused to sign (e.g. a key size it does not support).
    #[error("cannot sign with {subject}: {reason}")]
    Sign {
        /// The certificate's subject.
        subject: String,
        /// What the backend said.
        reason: String,
    },
    /// Building a certificate (fixture generator) failed.
    #[error("cannot issue certificate {name}: {reason}")]
    Issue {
        /// The fixture name.
        name: String,
        /// What went wrong.
        reason: String,
    },
}
