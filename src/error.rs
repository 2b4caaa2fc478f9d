//! The one error type the backends return. Messages name the object and the reason;
//! the script layer puts the call in front (`netns("red"): namespace "red" already exists`).

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input, found before anything was applied.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0} does not exist")]
    Missing(String),
    /// A system or kernel error about a named object.
    #[error("{what}: {source}")]
    Os { what: String, source: io::Error },
    #[error("{0}")]
    Other(String),
    /// A file netscript keeps that does not hold what netscript writes there.
    #[error("{file} is unreadable ({source})")]
    Unreadable {
        file: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An object this lab made was replaced by another of the same name, which is left
    /// alone (the message says which).
    #[error("{0}")]
    Replaced(String),
    /// The kernel lacks a feature (named in the message).
    #[error("{0}")]
    Unsupported(String),
    /// A call whose change was held back and failed when applied later.
    #[error("{call}: {inner}")]
    Deferred {
        call: String,
        at: crate::lab::session::At,
        inner: Box<Error>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Classify an errno about `what` into the error a user understands.
    pub fn from_errno(what: impl Into<String>, errno: i32) -> Error {
        let what = what.into();
        match errno {
            libc::EEXIST => Error::Exists(what),
            libc::ENODEV => Error::Missing(what),
            _ => Error::Os {
                what,
                source: io::Error::from_raw_os_error(errno),
            },
        }
    }

    pub fn os(what: impl Into<String>, source: io::Error) -> Error {
        match source.raw_os_error() {
            Some(e) if e == libc::EEXIST || e == libc::ENODEV => Error::from_errno(what, e),
            _ => Error::Os {
                what: what.into(),
                source,
            },
        }
    }

    /// True when the object an undo step wanted to remove is already gone.
    pub fn is_gone(&self) -> bool {
        match self {
            Error::Missing(_) => true,
            Error::Os { source, .. } => matches!(
                source.raw_os_error(),
                Some(libc::ENOENT)
                    | Some(libc::ESRCH)
                    | Some(libc::EADDRNOTAVAIL)
                    | Some(libc::ENODEV)
            ),
            _ => false,
        }
    }
}

impl From<nix::Error> for Error {
    fn from(e: nix::Error) -> Self {
        Error::Other(e.desc().to_string())
    }
}
