//! `netscript capture NS LINK`: packets on a link, one line each or pcap with `-w`.

use std::process::ExitCode;

use crate::errln;
use crate::ui::capture::{self, Opts};

pub fn exec(
    lab: Option<&str>,
    ns: &str,
    link: &str,
    write: Option<&str>,
    count: Option<u32>,
    seconds: Option<u64>,
) -> ExitCode {
    let opts = Opts {
        count: count.unwrap_or(capture::DEFAULT_COUNT),
        seconds: seconds.unwrap_or(capture::DEFAULT_SECONDS),
        filter: Default::default(),
    };
    match capture::command(lab, ns, link, write, &opts) {
        Ok(n) => {
            if let Some(f) = write.filter(|f| *f != "-") {
                errln!("{} written to {f}", crate::out::plural(n as u64, "packet"));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("netscript capture: {e}");
            ExitCode::from(super::FAILURE)
        }
    }
}
