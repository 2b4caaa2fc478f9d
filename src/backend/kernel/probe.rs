//! Probes with no external binary: ICMP echo over a raw socket, a TCP connect, a plain
//! HTTP/1.1 GET. The caller runs them on a thread inside the namespace to probe from.

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::backend::{HttpResponse, PingResult};

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

pub fn ping(dst: IpAddr, count: u32, timeout: Duration) -> io::Result<PingResult> {
    let v6 = dst.is_ipv6();
    let sock = if v6 {
        Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?
    } else {
        Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?
    };
    let ident = next_ident();
    let target = SocketAddr::new(dst, 0).into();
    let mut result = PingResult::default();
    for seq in 1..=count as u16 {
        let mut pkt = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
        pkt.extend_from_slice(&ident.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(b"netscript ping probe 0123456789abcdefghijklmnopqrstuv");
        if !v6 {
            // The kernel fills in the ICMPv6 checksum itself; ICMPv4's is ours.
            let c = checksum(&pkt);
            pkt[2..4].copy_from_slice(&c.to_be_bytes());
        }
        result.sent += 1;
        // The echo is sent again every 250 ms until the timeout: a link that was set up
        // a moment ago drops packets until the kernel has activated it (linkwatch), and
        // that can take a while on a loaded machine.
        let deadline = Instant::now() + timeout;
        let mut sent_at = Instant::now();
        let mut resend_at = sent_at;
        let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            if now >= resend_at {
                // No route, or the network is down: this echo is lost.
                let _ = sock.send_to(&pkt, &target);
                sent_at = now;
                resend_at = now + Duration::from_millis(250);
            }
            let wait = deadline
                .min(resend_at)
                .saturating_duration_since(Instant::now());
            sock.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
            let (n, from) = match sock.recv_from(&mut buf) {
                Ok(r) => r,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            // SAFETY: recv_from initialised the first n bytes.
            let data: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, n) };
            let icmp = if v6 {
                data
            } else {
                let ihl = (data.first().copied().unwrap_or(0) & 0x0f) as usize * 4;
                if data.len() < ihl {
                    continue;
                }
                &data[ihl..]
            };
            let reply_type = if v6 { 129 } else { 0 };
            let from_ip = from.as_socket().map(|s| s.ip());
            if icmp.len() >= 8
                && icmp[0] == reply_type
                && icmp[4..6] == ident.to_be_bytes()
                && icmp[6..8] == seq.to_be_bytes()
                && from_ip == Some(dst)
            {
                result.received += 1;
                result.rtt_ms.push(sent_at.elapsed().as_secs_f64() * 1000.0);
                break;
            }
        }
    }
    Ok(result)
}

pub fn connect(dst: SocketAddr, timeout: Duration) -> bool {
    TcpStream::connect_timeout(&dst, timeout).is_ok()
}

/// Split `http://HOST[:PORT]/PATH`; HOST must be an address (there is no DNS in a lab).
pub fn parse_url(url: &str) -> Result<(SocketAddr, String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?} is not an http:// URL"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if let Ok(sa) = hostport.parse::<SocketAddr>() {
        sa
    } else {
        let host = hostport.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = host.parse().map_err(|_| {
            format!("{url:?}: host {hostport:?} is not an IP address with an optional port")
        })?;
        SocketAddr::new(ip, 80)
    };
    Ok((addr, hostport.to_string(), path.to_string()))
}

pub fn http_get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout * 5))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: netscript\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = vec![];
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(bad)?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok(HttpResponse {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )
        .unwrap_or(0);
        b = &b[eol + 2..];
        if size == 0 || b.len() < size {
            break;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[(size + 2).min(b.len())..];
    }
    out
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
            .contains("not an IP"));
    }

    #[test]
    fn responses() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi").unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "hi"));
        let r = parse_response(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!((r.status, r.body.as_str()), (404, "abcde"));
        assert!(parse_response(b"garbage").is_err());
    }
}
