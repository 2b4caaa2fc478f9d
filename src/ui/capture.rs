//! Seeing packets: `ns.capture(link, ..)` and `netscript capture`. An `AF_PACKET` socket,
//! opened on a thread inside the namespace (see `backend::kernel::within`), reads every
//! frame that crosses one link; each is summarised (`Packet`), matched against a small
//! netscript-level `Filter` (not BPF: it runs here, after the kernel handed us the frame)
//! and, when asked, written to a classic pcap file. No tcpdump needed.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Defaults when `count` / `seconds` are not given: a capture always ends by itself.
pub const DEFAULT_COUNT: u32 = 10;
pub const DEFAULT_SECONDS: u64 = 10;
/// The most of one frame kept (and the pcap snaplen).
const SNAPLEN: usize = 65535;

/// What a capture matches (all given fields must hold).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// tcp, udp, icmp, icmp6, arp, ipv4 (any IPv4), ipv6 (any IPv6).
    pub proto: Option<String>,
    /// The source or the destination address.
    pub host: Option<IpAddr>,
    /// The source or the destination port (TCP, UDP).
    pub port: Option<u16>,
}

pub const PROTOS: &[&str] = &["tcp", "udp", "icmp", "icmp6", "arp", "ipv4", "ipv6"];

impl Filter {
    pub fn matches(&self, p: &Packet) -> bool {
        let proto = match self.proto.as_deref() {
            None => true,
            Some("ipv4") => p.family == 4,
            Some("ipv6") => p.family == 6,
            Some(name) => p.proto == name,
        };
        let host = self
            .host
            .is_none_or(|h| p.src == h.to_string() || p.dst == h.to_string());
        let port = self
            .port
            .is_none_or(|n| p.sport == Some(n) || p.dport == Some(n));
        proto && host && port
    }
}

/// When to stop, and what to keep.
#[derive(Clone, Debug)]
pub struct Opts {
    /// Stop after this many matching packets.
    pub count: u32,
    /// Stop after this long, however many were seen.
    pub seconds: u64,
    pub filter: Filter,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            count: DEFAULT_COUNT,
            seconds: DEFAULT_SECONDS,
            filter: Filter::default(),
        }
    }
}

/// One frame, summarised.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Packet {
    /// Seconds since the capture began.
    pub time: f64,
    /// tcp, udp, icmp, icmp6, arp; else `ip-N` (an IP protocol number) or `ether-0xNNNN`.
    pub proto: String,
    /// Addresses: IP (for ARP, the sender's and target's), else the MAC addresses.
    pub src: String,
    pub dst: String,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// The frame's length on the wire, Ethernet header included.
    pub len: usize,
    /// ICMP and ARP: what kind ("echo request", "who-has", ..); else empty.
    pub info: String,
    /// 4, 6 or 0 (not IP).
    family: u8,
}

impl Packet {
    /// One line, as `netscript capture` prints it.
    pub fn line(&self) -> String {
        let end = |a: &str, p: Option<u16>| match (p, a.contains(':')) {
            (Some(p), true) => format!("[{a}]:{p}"),
            (Some(p), false) => format!("{a}:{p}"),
            (None, _) => a.to_string(),
        };
        let mut s = format!(
            "{:.6} {} {} > {}",
            self.time,
            self.proto.to_uppercase(),
            end(&self.src, self.sport),
            end(&self.dst, self.dport)
        );
        if !self.info.is_empty() {
            s += format!(" {}", self.info).as_str();
        }
        s + format!(", length {}", self.len).as_str()
    }
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Summarise an Ethernet frame (`len`: its length on the wire). Anything too short to
/// parse further is named by what could be read.
pub fn parse(frame: &[u8], len: usize, time: f64) -> Packet {
    let mut p = Packet {
        time,
        len,
        ..Default::default()
    };
    if frame.len() < 14 {
        p.proto = "ether".into();
        return p;
    }
    p.dst = mac(&frame[0..6]);
    p.src = mac(&frame[6..12]);
    let mut etype = be16(frame, 12).unwrap_or(0);
    let mut off = 14;
    // An 802.1Q tag: look past it.
    if etype == 0x8100 {
        etype = be16(frame, 16).unwrap_or(0);
        off = 18;
    }
    let l3 = &frame[off.min(frame.len())..];
    match etype {
        0x0806 if l3.len() >= 28 => {
            p.proto = "arp".into();
            p.src = Ipv4Addr::from(<[u8; 4]>::try_from(&l3[14..18]).unwrap()).to_string();
            p.dst = Ipv4Addr::from(<[u8; 4]>::try_from(&l3[24..28]).unwrap()).to_string();
            p.info = match be16(l3, 6) {
                Some(1) => "who-has".into(),
                Some(2) => "is-at".into(),
                _ => String::new(),
            };
        }
        0x0800 if l3.len() >= 20 => {
            p.family = 4;
            let ihl = ((l3[0] & 0x0f) as usize * 4).max(20);
            p.src = Ipv4Addr::from(<[u8; 4]>::try_from(&l3[12..16]).unwrap()).to_string();
            p.dst = Ipv4Addr::from(<[u8; 4]>::try_from(&l3[16..20]).unwrap()).to_string();
            // A later fragment carries no transport header.
            let later_fragment = be16(l3, 6).unwrap_or(0) & 0x1fff != 0;
            transport(&mut p, l3[9], &l3[ihl.min(l3.len())..], later_fragment);
        }
        0x86dd if l3.len() >= 40 => {
            p.family = 6;
            p.src = Ipv6Addr::from(<[u8; 16]>::try_from(&l3[8..24]).unwrap()).to_string();
            p.dst = Ipv6Addr::from(<[u8; 16]>::try_from(&l3[24..40]).unwrap()).to_string();
            // Past the extension headers that commonly come first (hop-by-hop: MLD;
            // routing; destination options; fragment).
            let (mut next, mut at) = (l3[6], 40);
            let mut later_fragment = false;
            while matches!(next, 0 | 43 | 44 | 60) && at + 8 <= l3.len() {
                if next == 44 {
                    later_fragment = be16(l3, at + 2).unwrap_or(0) & 0xfff8 != 0;
                }
                let len = match next {
                    44 => 8,
                    _ => (l3[at + 1] as usize + 1) * 8,
                };
                next = l3[at];
                at += len;
            }
            transport(&mut p, next, &l3[at.min(l3.len())..], later_fragment);
        }
        other => p.proto = format!("ether-0x{other:04x}"),
    }
    p
}

fn transport(p: &mut Packet, proto: u8, l4: &[u8], later_fragment: bool) {
    p.proto = match proto {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmp6".into(),
        n => format!("ip-{n}"),
    };
    if later_fragment {
        return;
    }
    match proto {
        6 | 17 => {
            p.sport = be16(l4, 0);
            p.dport = be16(l4, 2);
        }
        1 => {
            p.info = match l4.first() {
                Some(0) => "echo reply".into(),
                Some(8) => "echo request".into(),
                Some(3) => "unreachable".into(),
                Some(11) => "time exceeded".into(),
                Some(t) => format!("type {t}"),
                None => String::new(),
            }
        }
        58 => {
            p.info = match l4.first() {
                Some(128) => "echo request".into(),
                Some(129) => "echo reply".into(),
                Some(1) => "unreachable".into(),
                Some(135) => "neighbor solicitation".into(),
                Some(136) => "neighbor advertisement".into(),
                Some(143) => "mld report".into(),
                Some(133) => "router solicitation".into(),
                Some(134) => "router advertisement".into(),
                Some(t) => format!("type {t}"),
                None => String::new(),
            }
        }
        _ => {}
    }
}

/// The classic pcap format (not pcapng): a 24-byte file header, then a 16-byte header
/// before each frame. Microsecond timestamps, LINKTYPE_ETHERNET.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W) -> io::Result<PcapWriter<W>> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes()); // magic: microseconds
        h.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&(SNAPLEN as u32).to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        out.write_all(&h)?;
        out.flush()?;
        Ok(PcapWriter { out })
    }

    pub fn write(&mut self, when: SystemTime, frame: &[u8], len: usize) -> io::Result<()> {
        let t = when.duration_since(UNIX_EPOCH).unwrap_or_default();
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&(t.as_secs() as u32).to_le_bytes());
        h.extend_from_slice(&t.subsec_micros().to_le_bytes());
        h.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        h.extend_from_slice(&(len as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)?;
        // Streamed (`-w -`): a reader sees each packet as it comes.
        self.out.flush()
    }
}

/// Where a capture sends what it sees, besides returning the summaries.
pub enum Sink {
    None,
    Pcap(PcapWriter<Box<dyn Write + Send>>),
}

/// Capture on link `link` of the calling thread's network namespace until `opts.count`
/// matching frames were seen, `opts.seconds` passed or a signal arrived (SIGINT, SIGTERM:
/// what was captured so far is returned). `each` sees every matching packet as it comes.
pub fn run(
    link: &str,
    opts: &Opts,
    sink: &mut Sink,
    mut each: impl FnMut(&Packet),
) -> crate::error::Result<Vec<Packet>> {
    use crate::error::Error;
    let index = ifindex(link)?;
    let sock = open(index).map_err(|e| Error::os("cannot open a packet socket", e))?;
    let start = Instant::now();
    let end = start + Duration::from_secs(opts.seconds);
    let mut buf = vec![0u8; SNAPLEN];
    let mut seen = vec![];
    while seen.len() < opts.count as usize {
        // A signal, or a closed stdout (`netscript capture .. | head -2`), ends it.
        if crate::signals::interrupted() || crate::out::closed().is_some() {
            break;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        // In slices, so a signal stops the capture promptly.
        let slice = left.min(Duration::from_millis(100));
        let mut pfd = libc::pollfd {
            fd: sock.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let n = unsafe { libc::poll(&mut pfd, 1, slice.as_millis().max(1) as i32) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::os("capturing", e));
        }
        if n == 0 {
            continue;
        }
        // MSG_TRUNC: the frame's real length, even if longer than the buffer.
        let got = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
            )
        };
        if got < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => continue,
                _ => return Err(Error::os("capturing", e)),
            }
        }
        let when = SystemTime::now();
        let len = got as usize;
        let frame = &buf[..len.min(buf.len())];
        let p = parse(frame, len, start.elapsed().as_secs_f64());
        if !opts.filter.matches(&p) {
            continue;
        }
        if let Sink::Pcap(w) = sink {
            w.write(when, frame, len)
                .map_err(|e| Error::os("writing the capture", e))?;
        }
        each(&p);
        seen.push(p);
    }
    Ok(seen)
}

/// `netscript capture [--lab LAB] NS LINK [-w FILE|-] [-c COUNT] [--seconds S]`: with
/// `file`, pcap to that file (`-`: stdout, streamed); without, one line per packet.
/// Returns how many packets were captured, or a one-line error.
pub fn command(
    lab: Option<&str>,
    ns: &str,
    link: &str,
    file: Option<&str>,
    opts: &Opts,
) -> crate::error::Result<usize> {
    use crate::backend::Backend;
    if let Some(lab) = lab {
        crate::ui::enter::in_lab(lab, ns)?;
    }
    let ns: crate::lab::op::Ns = match ns {
        "host" => None,
        name => {
            crate::lab::names::nsname(name).map_err(|e| e.about("invalid namespace name"))?;
            Some(name.to_string())
        }
    };
    crate::lab::names::ifname(link).map_err(|e| e.about("invalid link name"))?;
    let sink = match file {
        None => Sink::None,
        Some(path) => {
            let out: Box<dyn Write + Send> = match path {
                "-" => Box::new(io::stdout()),
                path => Box::new(io::BufWriter::new(std::fs::File::create(path).map_err(
                    |e| crate::error::Error::Other(format!("cannot write {path:?}: {e}")),
                )?)),
            };
            Sink::Pcap(
                PcapWriter::new(out)
                    .map_err(|e| crate::error::Error::Other(format!("writing the capture: {e}")))?,
            )
        }
    };
    crate::signals::install();
    let mut backend = crate::backend::kernel::KernelBackend::new()?;
    let print = file.is_none();
    let packets = backend.capture(&ns, link, opts, sink, &mut |p| {
        if print {
            crate::outln!("{}", p.line());
        }
    })?;
    Ok(packets.len())
}

fn ifindex(link: &str) -> crate::error::Result<u32> {
    use crate::error::Error;
    let name = std::ffi::CString::new(link)
        .map_err(|_| Error::Invalid(format!("invalid link name {link:?}")))?;
    match unsafe { libc::if_nametoindex(name.as_ptr()) } {
        0 => Err(Error::Other("no such link".into())),
        i => Ok(i),
    }
}

/// A packet socket bound to one link. Opened for no protocol first and then bound with
/// ETH_P_ALL, so it never holds frames of other links.
fn open(index: u32) -> io::Result<OwnedFd> {
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    sa.sll_ifindex = index as i32;
    let r = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icmp_frame(kind: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8];
        f[12] = 0x08;
        f[14] = 0x45;
        f[14 + 9] = 1;
        f[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 1]);
        f[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 2]);
        f[34] = kind;
        f
    }

    #[test]
    fn parses_icmp_and_filters() {
        let p = parse(&icmp_frame(8), 42, 0.5);
        assert_eq!(p.proto, "icmp");
        assert_eq!((p.src.as_str(), p.dst.as_str()), ("10.0.0.1", "10.0.0.2"));
        assert_eq!(p.info, "echo request");
        assert_eq!(
            p.line(),
            "0.500000 ICMP 10.0.0.1 > 10.0.0.2 echo request, length 42"
        );
        let f = Filter {
            proto: Some("ipv4".into()),
            host: Some("10.0.0.2".parse().unwrap()),
            port: None,
        };
        assert!(f.matches(&p));
        assert!(!Filter {
            port: Some(80),
            ..f
        }
        .matches(&p));
    }

    #[test]
    fn ipv6_past_hop_by_hop() {
        let mut f = vec![0u8; 14 + 40 + 8 + 4];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[14 + 6] = 0; // hop-by-hop options
        f[14 + 24 + 15] = 0x16; // dst ::16
        f[14 + 40] = 58; // then ICMPv6
        f[14 + 48] = 143; // MLDv2 report
        let p = parse(&f, f.len(), 0.0);
        assert_eq!((p.proto.as_str(), p.info.as_str()), ("icmp6", "mld report"));
        assert_eq!((p.src.as_str(), p.dst.as_str()), ("::", "::16"));
    }

    #[test]
    fn pcap_headers() {
        let mut out = vec![];
        let mut w = PcapWriter::new(&mut out).unwrap();
        w.write(UNIX_EPOCH, &[1, 2, 3], 60).unwrap();
        assert_eq!(out.len(), 24 + 16 + 3);
        assert_eq!(&out[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&out[24 + 12..24 + 16], &60u32.to_le_bytes());
    }
}
