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
    /// A netlink request failed without an errno (the reply could not be read, the
    /// connection closed).
    #[error("{what}: {source}")]
    Netlink {
        what: String,
        source: rtnetlink::Error,
    },
    /// nft failed or refused a change: the message says which and why; `source` is the
    /// failure behind it, when there is one (nft missing, its JSON unreadable).
    #[error("{msg}")]
    Nft {
        msg: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A system call through nix failed (no object to name).
    #[error("{}", .0.desc())]
    Nix(#[from] nix::Error),
    #[error("{0}")]
    Other(String),
    /// An error about the object named in front of it (`process 42: ...`).
    #[error("{what}: {source}")]
    About { what: String, source: Box<Error> },
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

    /// This error, about `what` (`what: error`), keeping it as the cause.
    pub fn about(self, what: impl Into<String>) -> Error {
        Error::About {
            what: what.into(),
            source: Box::new(self),
        }
    }

    /// The errno behind this error, if the system or the kernel gave one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            Error::About { source, .. } => source.errno(),
            _ => None,
        }
    }

    /// True when the object an undo step wanted to remove is already gone.
    pub fn is_gone(&self) -> bool {
        match self {
            Error::Missing(_) => true,
            Error::About { source, .. } => source.is_gone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn about_keeps_the_cause_and_reads_as_before() {
        let inner = Error::os("capturing", io::Error::from_raw_os_error(libc::ENETDOWN));
        let e = inner.about("link \"v\"");
        assert_eq!(
            e.to_string(),
            format!(
                "link \"v\": capturing: {}",
                io::Error::from_raw_os_error(libc::ENETDOWN)
            )
        );
        let cause = e.source().expect("kept");
        assert!(cause.source().is_some(), "and the io error under it");
        assert!(Error::Missing("x".into()).about("y").is_gone());
    }

    #[test]
    fn a_nix_error_reads_as_its_description() {
        // As the flattening `Error::Other(e.desc())` did.
        let e: Error = nix::Error::EPERM.into();
        assert_eq!(e.to_string(), nix::Error::EPERM.desc());
    }

    #[test]
    fn an_nft_failure_keeps_what_is_behind_it() {
        let e = Error::Nft {
            msg: "nft: boom".into(),
            source: Some(Box::new(io::Error::other("boom"))),
        };
        assert_eq!(e.to_string(), "nft: boom");
        assert!(e.source().is_some());
    }
}
