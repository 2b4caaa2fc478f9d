//! Probes with no external binary: ICMP echo over a raw socket, a TCP connect, a plain
//! HTTP/1.1 GET. The caller runs them on a thread inside the namespace to probe from.
//! Every wait is cut in short slices that look at `signals::interrupted`, so Ctrl-C or
//! SIGTERM stops a probe at once rather than at its timeout.

use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::backend::{HttpResponse, PingResult};

/// The longest a probe waits without looking for a signal.
const SLICE: Duration = Duration::from_millis(25);

/// How far apart `ping(addr, #{ count })` sends its echo requests.
pub const PING_INTERVAL: Duration = Duration::from_millis(20);

/// How often the single "is it reachable" ping sends its echo again.
const RESEND: Duration = Duration::from_millis(250);

fn interrupted() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, crate::lang::INTERRUPTED)
}

fn check_signal() -> io::Result<()> {
    match crate::signals::interrupted() {
        true => Err(interrupted()),
        false => Ok(()),
    }
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += word as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A distinct ICMP identifier per probe, so concurrent pings do not take each other's replies.
fn next_ident() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    (std::process::id() as u16)
        .wrapping_mul(31)
        .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The echo requests of one probe: one raw ICMP socket, one identifier.
struct Echo {
    sock: Socket,
    v6: bool,
    ident: u16,
    dst: IpAddr,
    target: SockAddr,
}

impl Echo {
    fn new(dst: IpAddr) -> io::Result<Echo> {
        let v6 = dst.is_ipv6();
        let sock = if v6 {
            Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?
        } else {
            Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?
        };
        Ok(Echo {
            sock,
            v6,
            ident: next_ident(),
            dst,
            target: SocketAddr::new(dst, 0).into(),
        })
    }

    /// Send echo request `seq`. A send error (no route, network down) loses this echo,
    /// as a lost packet would be: it is not an error of the probe.
    fn send(&self, seq: u16) {
        let mut pkt = vec![if self.v6 { 128 } else { 8 }, 0, 0, 0];
        pkt.extend_from_slice(&self.ident.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(b"netscript ping probe 0123456789abcdefghijklmnopqrstuv");
        if !self.v6 {
            // The kernel fills in the ICMPv6 checksum itself; ICMPv4's is ours.
            let c = checksum(&pkt);
            pkt[2..4].copy_from_slice(&c.to_be_bytes());
        }
        let _ = self.sock.send_to(&pkt, &self.target);
    }

    /// Wait until `until` for an echo reply from the destination with our identifier:
    /// its sequence number, or `None` when `until` came first.
    fn recv(&self, until: Instant) -> io::Result<Option<u16>> {
        let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
        loop {
            check_signal()?;
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.sock
                .set_read_timeout(Some(left.min(SLICE).max(Duration::from_millis(1))))?;
            let (n, from) = match self.sock.recv_from(&mut buf) {
                Ok(r) => r,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            // SAFETY: recv_from initialised the first n bytes.
            let data: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, n) };
            let icmp = if self.v6 {
                data
            } else {
                let ihl = (data.first().copied().unwrap_or(0) & 0x0f) as usize * 4;
                if data.len() < ihl {
                    continue;
                }
                &data[ihl..]
            };
            let reply_type = if self.v6 { 129 } else { 0 };
            if icmp.len() >= 8
                && icmp[0] == reply_type
                && icmp[4..6] == self.ident.to_be_bytes()
                && from.as_socket().map(|s| s.ip()) == Some(self.dst)
            {
                return Ok(Some(u16::from_be_bytes([icmp[6], icmp[7]])));
            }
        }
    }
}

/// `ping -c COUNT -W TIMEOUT`: `count` distinct echo requests, sequence numbers 1..=count,
/// each sent once, `PING_INTERVAL` apart. A reply counts for the request whose identifier
/// and sequence number it carries, once, if it comes within `timeout` of that request
/// being sent; its round trip is timed from that request's own send time. So a link
/// that loses half the packets shows about half the replies.
pub fn ping(dst: IpAddr, count: u32, timeout: Duration) -> io::Result<PingResult> {
    let echo = Echo::new(dst)?;
    let count = count.min(u16::MAX as u32) as usize;
    let mut sent_at: Vec<Instant> = Vec::with_capacity(count);
    let mut answered = vec![false; count];
    let mut result = PingResult::default();
    let mut next_at = Instant::now();
    while sent_at.len() < count || result.received < count as u32 {
        let now = Instant::now();
        if sent_at.len() < count && now >= next_at {
            echo.send(sent_at.len() as u16 + 1);
            sent_at.push(now);
            result.sent += 1;
            next_at += PING_INTERVAL;
            continue;
        }
        let last_deadline = sent_at[sent_at.len() - 1] + timeout;
        if sent_at.len() == count && now >= last_deadline {
            break;
        }
        let until = if sent_at.len() < count {
            next_at
        } else {
            last_deadline
        };
        let Some(seq) = echo.recv(until)? else {
            continue;
        };
        let i = (seq as usize).wrapping_sub(1);
        if i < sent_at.len() && !answered[i] {
            let rtt = sent_at[i].elapsed();
            if rtt <= timeout {
                answered[i] = true;
                result.received += 1;
                result.rtt_ms.push(rtt.as_secs_f64() * 1000.0);
            }
        }
    }
    Ok(result)
}

/// `ping ADDR` as a yes/no question: is `dst` reachable within `timeout`? The echo is
/// sent again every 250 ms (each time with the next sequence number) until any of them
/// is answered: a link set up a moment ago drops packets until the kernel has activated
/// it (linkwatch), and that can take a while on a loaded machine. Only this form resends.
pub fn reachable(dst: IpAddr, timeout: Duration) -> io::Result<bool> {
    let echo = Echo::new(dst)?;
    let deadline = Instant::now() + timeout;
    let mut seq: u16 = 0;
    while Instant::now() < deadline {
        seq = seq.wrapping_add(1);
        echo.send(seq);
        let until = deadline.min(Instant::now() + RESEND);
        while let Some(s) = echo.recv(until)? {
            if (1..=seq).contains(&s) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Wait until `sock` is ready for `events` (POLLIN, POLLOUT), in slices that look for a
/// signal; past `deadline` it is a timeout, worded with the probe's whole `timeout`.
fn wait_ready(sock: &Socket, events: i16, deadline: Instant, timeout: Duration) -> io::Result<()> {
    loop {
        check_signal()?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(timeout));
        }
        let mut pfd = libc::pollfd {
            fd: sock.as_raw_fd(),
            events,
            revents: 0,
        };
        let ms = left.min(SLICE).as_millis().max(1) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            n if n > 0 => return Ok(()),
            0 => continue,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// "timed out after 2 s": what a probe says when its deadline passes.
fn timed_out(timeout: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("timed out after {} s", timeout.as_secs_f64()),
    )
}

/// A TCP connection to `dst`, made by `deadline`.
fn tcp_connect(dst: SocketAddr, deadline: Instant, timeout: Duration) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(dst), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    match sock.connect(&dst.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
            wait_ready(&sock, libc::POLLOUT, deadline, timeout)?;
            if let Some(e) = sock.take_error()? {
                return Err(e);
            }
        }
        Err(e) => return Err(e),
    }
    Ok(sock)
}

/// `nc -z -w TIMEOUT`: does a TCP connection to `dst` open? An error only when a signal
/// stopped it.
pub fn connect(dst: SocketAddr, timeout: Duration) -> io::Result<bool> {
    match tcp_connect(dst, Instant::now() + timeout, timeout) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
        Err(_) => Ok(false),
    }
}

/// Split `http://HOST[:PORT]/PATH`; HOST must be an address (there is no DNS in a lab).
pub fn parse_url(url: &str) -> crate::error::Result<(SocketAddr, String, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| crate::error::Error::Invalid(format!("{url:?} is not an http:// URL")))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if let Ok(sa) = hostport.parse::<SocketAddr>() {
        sa
    } else {
        let host = hostport.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = host.parse().map_err(|_| {
            crate::error::Error::Invalid(format!(
                "{url:?}: host {hostport:?} is not an IP address with an optional port"
            ))
        })?;
        SocketAddr::new(ip, 80)
    };
    Ok((addr, hostport.to_string(), path.to_string()))
}

/// `curl -m TIMEOUT URL`: one GET, with one deadline for all of it (connect, send, the
/// whole response). The request goes out in one write, so a server that reads once sees
/// all of it. The response ends where its framing says (Content-Length, chunked, or the
/// connection closing), not only at EOF: a keep-alive server that leaves the connection
/// open still answers at once. Interim 1xx responses (100 Continue) are skipped.
pub fn http_get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let deadline = Instant::now() + timeout;
    let sock = tcp_connect(addr, deadline, timeout)?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: netscript\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let mut sent = 0;
    while sent < req.len() {
        match sock.send_with_flags(&req.as_bytes()[sent..], libc::MSG_NOSIGNAL) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_ready(&sock, libc::POLLOUT, deadline, timeout)?
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The server answered and closed before reading all of the request (EPIPE,
            // ECONNRESET): what it answered is still there to read.
            Err(_) => break,
        }
    }
    let mut r = Reader {
        sock,
        buf: vec![],
        eof: false,
        deadline,
        timeout,
    };
    loop {
        let head = loop {
            if let Some(h) = parse_head(&r.buf)? {
                break h;
            }
            if !r.fill()? {
                return Err(incomplete("before a complete response head"));
            }
        };
        r.buf.drain(..head.len);
        // 1xx is interim (100 Continue, 103 Early Hints); 101 would be a protocol switch.
        if (100..200).contains(&head.status) && head.status != 101 {
            continue;
        }
        let body = if head.status == 204 || head.status == 304 {
            vec![]
        } else if head.chunked {
            loop {
                if let Some(b) = dechunk(&r.buf)? {
                    break b;
                }
                if !r.fill()? {
                    return Err(incomplete("in the middle of the chunked body"));
                }
            }
        } else if let Some(n) = head.content_length {
            while r.buf.len() < n {
                if !r.fill()? {
                    return Err(incomplete(&format!(
                        "after {} of {n} body bytes (Content-Length)",
                        r.buf.len()
                    )));
                }
            }
            r.buf.truncate(n);
            std::mem::take(&mut r.buf)
        } else {
            while r.fill()? {}
            std::mem::take(&mut r.buf)
        };
        return Ok(HttpResponse {
            status: head.status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
}

fn incomplete(when: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the server closed the connection {when}"),
    )
}

/// The most of a response `http_get` keeps: a lab's answers are small, and a server that
/// never stops sending must not fill the memory before the deadline.
const MAX_RESPONSE: usize = 64 << 20;

/// The most a response head (status line and headers) may take, as in common servers.
const MAX_HEAD: usize = 64 << 10;

/// The bytes of a response read so far, and more on demand by a deadline.
struct Reader {
    sock: Socket,
    buf: Vec<u8>,
    eof: bool,
    deadline: Instant,
    timeout: Duration,
}

impl Reader {
    /// Read what has arrived (waiting for some); false at the end of the stream. A reset
    /// ends the stream too: a server that closes with our request partly unread resets
    /// the connection, after the answer it sent. The deadline, a signal and the size
    /// limit are checked on every call, not only while waiting: a server that streams
    /// without end never leaves the socket empty.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        check_signal()?;
        if Instant::now() >= self.deadline {
            return Err(timed_out(self.timeout));
        }
        if self.buf.len() > MAX_RESPONSE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the response is larger than {} MiB", MAX_RESPONSE >> 20),
            ));
        }
        let mut chunk = [MaybeUninit::<u8>::uninit(); 16384];
        loop {
            match self.sock.recv(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    // SAFETY: recv initialised the first n bytes.
                    let got = unsafe { std::slice::from_raw_parts(chunk.as_ptr() as *const u8, n) };
                    self.buf.extend_from_slice(got);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait_ready(&self.sock, libc::POLLIN, self.deadline, self.timeout)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => check_signal()?,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.eof = true;
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A response's status line and the headers that frame its body.
#[derive(Debug, PartialEq)]
struct Head {
    status: i64,
    content_length: Option<usize>,
    chunked: bool,
    /// Bytes up to and including the blank line.
    len: usize,
}

/// The head at the start of `raw`, or `None` while it is incomplete.
fn parse_head(raw: &[u8]) -> io::Result<Option<Head>> {
    let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    if raw.len() >= 5 && !raw.starts_with(b"HTTP/") {
        return Err(bad("the answer is not an HTTP response".into()));
    }
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        if raw.len() > MAX_HEAD {
            return Err(bad(format!(
                "the response head is larger than {} KiB",
                MAX_HEAD >> 10
            )));
        }
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .filter(|c| c.len() == 3)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
        len: end + 4,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            let n = value
                .parse()
                .map_err(|_| bad(format!("bad Content-Length {value:?}")))?;
            head.content_length = Some(n);
        } else if name == "transfer-encoding" {
            head.chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    Ok(Some(head))
}

/// A complete chunked body at the start of `b`, decoded; `None` while it is incomplete
/// (the last chunk, of size 0, and the blank line after the trailers have not come).
fn dechunk(mut b: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut out = vec![];
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&b[..eol]);
        let hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(hex, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size {hex:?}"),
            )
        })?;
        b = &b[eol + 2..];
        if size == 0 {
            // Trailers, if any, then a blank line.
            loop {
                let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                if eol == 0 {
                    return Ok(Some(out));
                }
                b = &b[eol + 2..];
            }
        }
        // A size near usize::MAX from a broken server must not overflow.
        if b.len() < size.saturating_add(2) {
            return Ok(None);
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_echo_request() {
        // An echo request with id 1, seq 1 and no payload: 08 00 ?? ?? 00 01 00 01.
        let pkt = [8u8, 0, 0, 0, 0, 1, 0, 1];
        assert_eq!(checksum(&pkt), 0xf7fd);
    }

    #[test]
    fn urls() {
        let (a, h, p) = parse_url("http://10.0.0.1:8080/x?y").unwrap();
        assert_eq!(
            (a.to_string(), h.as_str(), p.as_str()),
            ("10.0.0.1:8080".into(), "10.0.0.1:8080", "/x?y")
        );
        assert_eq!(parse_url("http://10.0.0.1").unwrap().0.port(), 80);
        assert!(parse_url("https://10.0.0.1").is_err());
        assert!(parse_url("http://example.com/")
            .unwrap_err()
            .to_string()
            .contains("not an IP"));
    }

    #[test]
    fn heads() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        assert_eq!(
            parse_head(raw).unwrap(),
            Some(Head {
                status: 200,
                content_length: Some(2),
                chunked: false,
                len: raw.len() - 2
            })
        );
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
        assert_eq!(parse_head(b"HTT").unwrap(), None);
        let h = parse_head(b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: Chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.chunked && h.status == 404);
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }

    #[test]
    fn chunks() {
        let full = b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(dechunk(full).unwrap().unwrap(), b"abcde");
        // Every prefix is incomplete, not an error nor a short body.
        for n in 0..full.len() {
            assert_eq!(dechunk(&full[..n]).unwrap(), None, "prefix of {n} bytes");
        }
        assert_eq!(dechunk(b"0\r\n\r\n").unwrap().unwrap(), b"");
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn timeout_message() {
        assert_eq!(
            timed_out(Duration::from_secs(2)).to_string(),
            "timed out after 2 s"
        );
        assert_eq!(
            timed_out(Duration::from_millis(1500)).to_string(),
            "timed out after 1.5 s"
        );
    }
}
